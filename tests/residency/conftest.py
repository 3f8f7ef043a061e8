"""Two regions on two real databases: ``default`` (DATABASE_URL) and ``eu`` (DATABASE_URL_EU).

The suite runs with one region (exactly as without residency); these tests need the second one
and are skipped without it: ``make test`` runs them in a second session with ``DATABASE_URL_EU``
(``.ci/run`` points it at a second PostgreSQL database). ``tenant-eu`` is pinned to ``eu``;
``tenant-a`` lives in the default region.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connections

from mmm_project.residency import context

EU_TENANT, DEFAULT_TENANT = "tenant-eu", "tenant-a"
BOTH = ["default", "eu"]


def two_regions() -> bool:
    return "eu" in settings.DATABASES


needs_two_regions = pytest.mark.skipif(
    not two_regions(), reason="DATABASE_URL_EU is not set: data residency needs a second database"
)


@pytest.fixture(autouse=True)
def _pinned(settings):
    """``tenant-eu`` pinned to ``eu``; every test starts with no tenant or region in context."""
    settings.TENANT_REGIONS = {EU_TENANT: "eu"} if two_regions() else {}
    token = context._scope.set(None)
    yield
    context._scope.reset(token)


@pytest.fixture
def rows() -> Callable[[str, str, str], int]:
    """``rows(alias, table, tenant_id)``: rows of ``tenant_id`` in ``table`` read straight from the
    database ``alias`` (raw SQL, no router)."""

    def count(alias: str, table: str, tenant_id: str) -> int:
        with connections[alias].cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", [tenant_id])
            return cursor.fetchone()[0]

    return count
