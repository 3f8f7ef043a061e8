"""``python manage.py verify_receipts [--tenant T] [--since ISO-8601]``: check stored receipts' signatures.

Prints one line per receipt that does not verify and a summary; exits non-zero if any fails.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from receipts.models import Receipt
from receipts.services import receipt_document
from receipts.signing import verify_document

CHUNK = 1000


class Command(BaseCommand):
    help = "Verify the Ed25519 signature of stored receipts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="only this tenant's receipts")
        parser.add_argument("--since", help="only receipts created at or after this ISO 8601 time")
        parser.add_argument("--verbose-ok", action="store_true", help="also list receipts that verify")

    def handle(self, *args: Any, **options: Any) -> None:
        receipts = Receipt.objects.all()
        if options["tenant"]:
            receipts = receipts.for_tenant(options["tenant"])
        if options["since"]:
            since = parse_datetime(options["since"])
            if since is None:
                raise CommandError("--since must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z")
            receipts = receipts.filter(created_at__gte=since)
        checked = invalid = redacted = 0
        for receipt in receipts.order_by("created_at").iterator(chunk_size=CHUNK):
            checked += 1
            if receipt.redacted_at is not None:
                # Written before pseudonyms, its actor was deleted: the id was replaced after the
                # signature verified, so the signature (over the original body) cannot be checked.
                redacted += 1
                if options["verbose_ok"]:
                    self.stdout.write(
                        f"redacted {receipt.receipt_id} {receipt.kind} at {receipt.redacted_at}"
                    )
                continue
            result = verify_document(receipt_document(receipt))
            if not result.valid:
                invalid += 1
                self.stdout.write(
                    f"INVALID {receipt.receipt_id} {receipt.kind} kid={receipt.kid}: {result.reason}"
                )
            elif options["verbose_ok"]:
                self.stdout.write(f"ok      {receipt.receipt_id} {receipt.kind} kid={receipt.kid}")
        valid = checked - invalid - redacted
        self.stdout.write(
            f"{checked} receipt(s) checked, {valid} valid, {invalid} invalid, {redacted} redacted "
            "(actor deleted; verified before redaction)"
        )
        if invalid:
            raise CommandError(f"{invalid} receipt(s) failed verification")
