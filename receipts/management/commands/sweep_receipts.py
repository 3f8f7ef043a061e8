"""``python manage.py sweep_receipts [--all]``: send pending receipts now.

In services mode beat runs this every minute; in the embedded default (no worker) this command
sends them in-process. ``--all`` includes receipts pending for less than a minute.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from receipts.services import receipts_sweep


class Command(BaseCommand):
    help = "Send (or re-enqueue) receipts still pending."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="include receipts pending under a minute")

    def handle(self, *args: Any, **options: Any) -> None:
        count = receipts_sweep(min_age=timedelta(0) if options["all"] else None)
        self.stdout.write(f"{count} receipt(s) swept")
