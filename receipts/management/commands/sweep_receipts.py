"""``python manage.py sweep_receipts [--all]``: send pending receipts now.

In services mode beat runs this every minute; in the embedded default (no worker) this command
sends them in-process. ``--all`` also sends receipts whose next attempt is not due yet (new
ones, or ones backing off after failures).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from receipts.services import receipts_sweep


class Command(BaseCommand):
    help = "Send (or re-enqueue) receipts still pending."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="include receipts whose next attempt is not due yet"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = receipts_sweep(due_only=not options["all"])
        self.stdout.write(f"{count} receipt(s) swept")
