"""``manage.py migrate`` in the scope of the region it migrates (NFR-3 data residency).

Data migrations (``RunPython``) query tenant-scoped models through the router; running the
command inside ``region_context(--database)`` sends those queries to the database being migrated,
in every region, without each migration having to name its connection.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as MigrateCommand

from mmm_project.residency import region_context


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        with region_context(options["database"]):
            return super().handle(*args, **options)
