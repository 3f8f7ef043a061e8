"""A fresh gunicorn worker's first request, made cheaper before it accepts one (NFR-1, issue 13).

The first decide a new worker answered cost ~100 ms more than the next ones (in-process, cProfile):
opening its PostgreSQL and Redis connections, and, after its response, Celery's first publish
loading the app's task modules and running Django's system checks (Celery's Django fixup,
~160 ms before the worker could take its next request). With a peer to call as well, that first
decide went past the IDE budget (150 ms) and was answered with no actions. ``warm_up`` does these
once in ``post_worker_init``, before the worker accepts a request; what depends on a tenant (its
policy from the Policy service, its playbooks compiled) is still loaded by its first decide.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def warm_up() -> list[str]:
    """Load Celery's task modules, open each database connection and the shared cache's.

    Never raises: a peer that is down now (the database, Redis) is connected to by the first
    request that needs it, as without a warm-up. Returns what could not be warmed (aliases).
    """
    from django.core.cache import caches
    from django.db import connections

    from mmm_project.celery import app

    failed = []
    app.loader.import_default_modules()  # what the first task publish would do
    for connection in connections.all():
        try:
            connection.ensure_connection()
        except Exception:  # noqa: BLE001 - the first request connects (or answers 503)
            failed.append(f"database:{connection.alias}")
    try:
        caches["default"].get("mmm:warm-up")
    except Exception:  # noqa: BLE001 - as above
        failed.append("cache:default")
    if failed:
        logger.warning("worker warm-up incomplete", extra={"error": ",".join(failed)})
    return failed
