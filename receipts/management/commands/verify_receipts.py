"""``python manage.py verify_receipts [--tenant T] [--since ISO-8601] [--workers N]``: check receipts.

Without ``--since``, each tenant's receipt log is verified whole (``receipts.ledger.audit``):
every receipt's signature, every signed tree head, and completeness: the tree recomputed from the
stored receipts must be the signed one; a missing, inserted, reordered or changed receipt is named
by its log index. With ``--since``, only the signatures of receipts from that time are checked (a
time window cannot show completeness). Prints one line per problem, progress on long runs, and a
summary; exits non-zero if anything fails.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from mmm_project.residency import tenant_or_each_region
from receipts.ledger.audit import CHUNK, LogAudit, log_audit
from receipts.models import Receipt
from receipts.services import receipt_document
from receipts.signing import verify_document

MAX_LINES = 200  # problem lines printed per tenant; the summary counts them all


class Command(BaseCommand):
    help = "Verify stored receipts: signatures, and each tenant's receipt log (completeness, order)."
    # It reads and checks, with the public keys stored beside the receipts; the system checks
    # (settings, secrets, URLs) are for what serves or signs, and cost a start-up they do not need.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="only this tenant's receipts")
        parser.add_argument(
            "--since", help="only signatures of receipts created at or after this ISO 8601 time"
        )
        parser.add_argument(
            "--verbose-ok", action="store_true", help="also list receipts that verify (--since)"
        )
        parser.add_argument(
            "--workers", type=int, default=None, help="processes reading receipts (default: auto)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        invalid = problems = 0
        # The tenant's region, or every region in turn (NFR-3).
        for _ in tenant_or_each_region(options["tenant"]):
            if options["since"]:
                self._signatures_since(options)
                continue
            for tenant_id in [options["tenant"]] if options["tenant"] else self._tenants():
                audit = self._audit(tenant_id, options["workers"])
                invalid, problems = invalid + len(audit.invalid), problems + len(audit.findings)
        if invalid or problems:
            raise CommandError(f"{invalid} receipt(s) failed verification; {problems} log problem(s)")

    def _tenants(self) -> list[str]:
        return list(Receipt.objects.values_list("tenant_id", flat=True).distinct().order_by("tenant_id"))

    def _audit(self, tenant_id: str, workers: int | None) -> LogAudit:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if total > CHUNK:
                self.stdout.write(
                    f"  {tenant_id}: {done}/{total} receipts checked ({time.monotonic() - started:.1f} s)"
                )

        audit = log_audit(tenant_id=tenant_id, workers=workers, progress=progress)
        for index, rid, kind, kid, _, _ in audit.invalid[:MAX_LINES]:
            where = f"index {index}" if index is not None else "not in the log"
            self.stdout.write(
                f"INVALID {rid} {kind} kid={kid}: signature does not match the receipt ({where})"
            )
        for finding in audit.findings[:MAX_LINES]:
            self.stdout.write(finding.line())
        invalid, problems = len(audit.invalid), len(audit.findings)
        self.stdout.write(
            f"{tenant_id}: {audit.receipts} receipt(s) checked, {audit.valid} valid, {invalid} invalid, "
            f"{audit.redacted} redacted (actor deleted; verified before redaction); log of "
            f"{audit.log_size} entries, {audit.heads} signed head(s) (latest size {audit.head_size}), "
            f"{problems} log problem(s), {audit.unlogged} receipt(s) not in the log yet; "
            f"{time.monotonic() - started:.1f} s"
        )
        return audit

    def _signatures_since(self, options: dict[str, Any]) -> None:
        since = parse_datetime(options["since"])
        if since is None:
            raise CommandError("--since must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z")
        receipts = Receipt.objects.filter(created_at__gte=since)
        if options["tenant"]:
            receipts = receipts.for_tenant(options["tenant"])
        checked = invalid = redacted = 0
        for receipt in receipts.order_by("created_at").iterator(chunk_size=1000):
            checked += 1
            if receipt.redacted_at is not None:
                # Written before pseudonyms, its actor was deleted: the id was replaced after the
                # signature verified, so the signature (over the original body) cannot be checked.
                redacted += 1
                continue
            result = verify_document(receipt_document(receipt))
            if not result.valid:
                invalid += 1
                self.stdout.write(
                    f"INVALID {receipt.receipt_id} {receipt.kind} kid={receipt.kid}: {result.reason}"
                )
            elif options["verbose_ok"]:
                self.stdout.write(f"ok      {receipt.receipt_id} {receipt.kind} kid={receipt.kid}")
        self.stdout.write(
            f"{checked} receipt(s) checked, {checked - invalid - redacted} valid, {invalid} invalid, "
            f"{redacted} redacted (actor deleted; verified before redaction)"
        )
        if invalid:
            raise CommandError(f"{invalid} receipt(s) failed verification")
