"""Database settings per region, read from the environment (NFR-3 data residency).

Django-free, so that ``settings.py`` can use it. ``DATABASE_URL`` is the default region (alias
``default``); each ``DATABASE_URL_<REGION>`` (``DATABASE_URL_EU``, ``DATABASE_URL_US_EAST``) adds
the region ``<region>`` in lower case (``eu``, ``us_east``) with its own database. With none of
them set there is one region and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import environ

REGION_VARIABLE = re.compile(r"^DATABASE_URL_([A-Z][A-Z0-9_]*)$")
DEFAULT_ALIAS = "default"

# The django-prometheus engines add query metrics (per alias).
_PROMETHEUS_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}


def region_variables(environment: Mapping[str, str]) -> dict[str, str]:
    """``{alias: variable}`` for every non-empty ``DATABASE_URL_<REGION>`` in ``environment``.

    Raises:
        ValueError: ``DATABASE_URL_DEFAULT`` (the default region is ``DATABASE_URL``).
    """
    found = {}
    for name, value in environment.items():
        match = REGION_VARIABLE.match(name)
        if match and value:
            alias = match.group(1).lower()
            if alias == DEFAULT_ALIAS:
                raise ValueError("DATABASE_URL_DEFAULT is not a region: the default region is DATABASE_URL")
            found[alias] = name
    return dict(sorted(found.items()))


def _tuned(db: dict[str, Any], env: environ.Env) -> dict[str, Any]:
    db["ENGINE"] = _PROMETHEUS_ENGINES.get(db["ENGINE"], db["ENGINE"])
    db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    db["CONN_HEALTH_CHECKS"] = True
    if "postgresql" in db["ENGINE"]:
        # Seconds; a database that does not answer must not hang /ready or a request.
        db.setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
        )
    return db


def database_settings(env: environ.Env, local_state_dir: Path) -> dict[str, dict[str, Any]]:
    """``DATABASES``: ``default`` from ``DATABASE_URL`` (embedded default: a SQLite file under
    ``local_state_dir``), plus one alias per ``DATABASE_URL_<REGION>``."""
    if not env.str("DATABASE_URL", default=""):
        local_state_dir.mkdir(parents=True, exist_ok=True)
    databases = {
        DEFAULT_ALIAS: _tuned(
            env.db("DATABASE_URL", default=f"sqlite:///{local_state_dir / 'db.sqlite3'}"), env
        )
    }
    for alias, variable in region_variables(env.ENVIRON).items():
        databases[alias] = _tuned(env.db(variable), env)
    return databases


def tenant_regions(env: environ.Env) -> dict[str, str]:
    """``TENANT_REGIONS`` (``tenant-a=eu,tenant-b=eu``) as ``{tenant_id: alias}``; tenants not
    listed live in the default region."""
    return {
        tenant.strip(): str(region).strip().lower()
        for tenant, region in env.dict("TENANT_REGIONS", default={}).items()
        if tenant.strip()
    }
