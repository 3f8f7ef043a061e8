"""Management commands in a tenant's scope (NFR-3)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mmm_project.residency.context import command_scope


class TenantCommand(BaseCommand):
    """A command whose ``--tenant`` option puts that tenant in context: its queries and writes go
    to the tenant's region. Without ``--tenant`` the command must pick regions itself
    (``each_region``); tenant-scoped queries outside any scope fail with ``NoRegionContext``."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with command_scope(options.get("tenant")):
            return super().execute(*args, **options)
