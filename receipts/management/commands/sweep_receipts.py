"""``python manage.py sweep_receipts [--all]``: send pending receipts now, append the receipt logs.

In services mode beat runs this every minute (and the log sweep every few seconds); in the
embedded default (no worker) this command sends them, and appends every tenant's receipts not
in its tamper-evident log yet (``receipt_log_sweep``), in-process. ``--all`` also sends
receipts whose next attempt is not due yet (new ones, or ones backing off after failures).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mmm_project.residency import each_region
from receipts.ledger.services import receipt_log_sweep
from receipts.services import receipts_sweep


class Command(BaseCommand):
    help = "Send (or re-enqueue) receipts still pending."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="include receipts whose next attempt is not due yet"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = tenants = 0
        for _ in each_region():  # every region's database in turn (NFR-3)
            count += receipts_sweep(due_only=not options["all"])
            tenants += receipt_log_sweep()
        self.stdout.write(f"{count} receipt(s) swept")
        self.stdout.write(f"{tenants} tenant receipt log(s) appended")
