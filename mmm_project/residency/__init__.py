"""Data residency (NFR-3): each tenant's data lives in its region's database.

* ``databases``: ``DATABASES`` from ``DATABASE_URL`` (the default region) and ``DATABASE_URL_<REGION>``;
  ``TENANT_REGIONS`` pins tenants to regions (settings, read at start-up).
* ``context``: the tenant or region in context (``tenant_context``, ``region_context``,
  ``each_region``, ``activate_tenant``), set by requests, tasks and commands.
* ``router``: ``RegionRouter`` sends tenant-scoped models to the region in context.
* ``transactions``: ``tenant_atomic``, ``tenant_on_commit``, ``tenant_connection`` on that region.
* ``celery``: tasks carry their publisher's scope; ``middleware``: per-request scope and the
  admin's region.

See ``docs/data-residency.md``.
"""

from mmm_project.residency.context import (
    CrossRegionWrite,
    NoRegionContext,
    ResidencyError,
    activate_tenant,
    command_scope,
    configure,
    current_alias,
    each_region,
    multi_region,
    region_context,
    region_of,
    regions,
    tenant_context,
    tenant_or_each_region,
)
from mmm_project.residency.transactions import tenant_atomic, tenant_connection, tenant_on_commit

__all__ = [
    "CrossRegionWrite",
    "NoRegionContext",
    "ResidencyError",
    "activate_tenant",
    "command_scope",
    "configure",
    "current_alias",
    "each_region",
    "multi_region",
    "region_context",
    "region_of",
    "regions",
    "tenant_atomic",
    "tenant_connection",
    "tenant_context",
    "tenant_on_commit",
    "tenant_or_each_region",
]
