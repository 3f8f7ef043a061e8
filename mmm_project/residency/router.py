"""The database router of a multi-region deployment (``DATABASE_ROUTERS``, NFR-3).

Every model of the tenant-scoped apps (``REGIONAL_APPS``) is read and written on the region in
context (``current_alias()``); everything else (users, sessions, admin log, content types) lives
on ``default`` only. Installed only when a ``DATABASE_URL_<REGION>`` is set: a single-region
deployment has no router at all.

Cross-region reads are impossible by construction: a query has no region of its own, it runs on
the context's. Saved rows are also checked against their tenant (``check_row_region``, a
``pre_save`` receiver connected only with several regions): a row of a tenant pinned to another
region than the database it is being saved to raises ``CrossRegionWrite`` instead of landing there.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from mmm_project.residency.context import DEFAULT_ALIAS, CrossRegionWrite, current_alias, region_of

# The apps whose every table is tenant data (each row carries tenant_id, or is a key set that
# each region keeps for itself: receipts.ReceiptKey).
REGIONAL_APPS = frozenset({"decisions", "playbooks", "preferences", "experiments", "receipts"})


class RegionRouter:
    """Route tenant-scoped models to the region in context; the rest to ``default``."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        if model._meta.app_label not in REGIONAL_APPS:
            return DEFAULT_ALIAS
        return current_alias()

    db_for_write = db_for_read

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        return None  # Django's own rule: both rows from the same database

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        """Tenant-scoped tables in every region; the rest in ``default`` only."""
        return app_label in REGIONAL_APPS or db == DEFAULT_ALIAS


def check_row_region(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """``pre_save``: refuse to save a tenant's row to a database other than its region's.

    Raises:
        CrossRegionWrite: ``instance.tenant_id`` is pinned to another region than ``using``.
    """
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id and sender._meta.app_label in REGIONAL_APPS and region_of(tenant_id) != using:
        raise CrossRegionWrite(
            f"a {sender._meta.label} row of a tenant pinned to region {region_of(tenant_id)!r} "
            f"was about to be written to region {using!r}"
        )
