"""``python manage.py purge_retention [--tenant T] [--dry-run]``: the retention purge (NFR-3), now.

``--dry-run`` prints, per table, how many rows would go and each tenant's windows; it writes
nothing. Without it, batches run until nothing expired is left (legal hold always wins).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from decisions.retention import retention_preview, retention_purge_batch
from decisions.retention_windows import retention_windows
from mmm_project.residency import tenant_or_each_region

BATCH_SIZE = 500


class Command(BaseCommand):
    help = "Delete rows past their tenant's retention (or, with --dry-run, count them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="only this tenant")
        parser.add_argument("--dry-run", action="store_true", help="count what would go; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        now, tenant = timezone.now(), options["tenant"]
        totals: dict[str, int] = {}
        # The tenant's region, or each region in turn (NFR-3 residency).
        for _ in tenant_or_each_region(tenant):
            if tenant:
                w = retention_windows(tenant_id=tenant)
                self.stdout.write(
                    f"{tenant}: decisions {w.decisions_days} d, outcomes {w.outcomes_days} d, "
                    f"logs {w.logs_days} d ({w.source})"
                )
            if options["dry_run"]:
                for table, count in retention_preview(now=now, tenant_id=tenant).items():
                    totals[table] = totals.get(table, 0) + count
                continue
            while True:
                report = retention_purge_batch(now=now, batch_size=BATCH_SIZE, tenant_id=tenant)
                for table in ("decisions", "outcomes", "signals", "rejected_signals"):
                    totals[table] = totals.get(table, 0) + getattr(report, table)
                if not report.more:
                    break
        verb = "would delete" if options["dry_run"] else "deleted"
        for table, count in totals.items():
            self.stdout.write(f"{verb} {count} {table}")
