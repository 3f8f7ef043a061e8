"""Retention purge of decisions, outcomes, signals and rejected-signal records (NFR-3)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from decisions.models import Decision, Outcome, RejectedSignal, Signal
from decisions.retention_windows import RetentionWindows, retention_windows
from mmm_project.residency import tenant_atomic
from receipts.documents import deletion_body
from receipts.services import receipt_create


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted by one purge batch, per table. ``more`` is true when a batch was full."""

    decisions: int
    outcomes: int
    signals: int
    rejected_signals: int
    more: bool


def _windows(tenant_id: str | None) -> dict[str, RetentionWindows]:
    """The windows of every tenant with rows (or of ``tenant_id`` only)."""
    if tenant_id is not None:
        return {tenant_id: retention_windows(tenant_id=tenant_id)}
    tenants: set[str] = set()
    for model in (Decision, Outcome, Signal, RejectedSignal):
        tenants.update(model.objects.values_list("tenant_id", flat=True).distinct().order_by())
    return {tenant: retention_windows(tenant_id=tenant) for tenant in sorted(tenants) if tenant}


def _expired(now: datetime, column: str, windows: dict[str, RetentionWindows], attribute: str) -> Q:
    """``Q`` matching rows older than their tenant's window ``attribute`` (days) on ``column``."""
    condition = Q(pk__in=[])  # nothing, for no tenants
    for tenant_id, window in windows.items():
        cutoff = now - timedelta(days=getattr(window, attribute))
        condition |= Q(tenant_id=tenant_id, **{f"{column}__lt": cutoff})
    return condition


def _expired_rows(
    now: datetime, windows: dict[str, RetentionWindows], tenant_id: str | None
) -> dict[str, models.QuerySet]:
    """What retention deletes, per table; legal hold always wins (those rows never match)."""
    held = Q(legal_hold=True)
    rejected = RejectedSignal.objects.filter(_expired(now, "received_at", windows, "logs_days"))
    if tenant_id is None:  # records that named no tenant: the default log window
        default_cutoff = now - timedelta(days=settings.REJECTED_SIGNAL_RETENTION_DAYS)
        rejected = rejected | RejectedSignal.objects.filter(tenant_id="", received_at__lt=default_cutoff)
    return {
        "decisions": Decision.objects.filter(_expired(now, "created_at", windows, "decisions_days")).exclude(
            held
        ),
        "outcomes": Outcome.objects.filter(_expired(now, "created_at", windows, "outcomes_days")).exclude(
            held
        ),
        "signals": Signal.objects.filter(_expired(now, "received_at", windows, "decisions_days")).exclude(
            held
        ),
        "rejected_signals": rejected,
    }


def retention_preview(*, now: datetime, tenant_id: str | None = None) -> dict[str, int]:
    """How many rows per table the purge would delete now (``purge_retention --dry-run``); writes nothing."""
    rows = _expired_rows(now, _windows(tenant_id), tenant_id)
    return {table: queryset.count() for table, queryset in rows.items()}


def _delete_batch(rows: models.QuerySet, batch_size: int) -> Counter[str]:
    """Delete up to ``batch_size`` rows of ``rows``; return the counts by tenant."""
    picked = list(rows.values_list("pk", "tenant_id")[:batch_size])
    if picked:
        rows.model.objects.filter(pk__in=[pk for pk, _ in picked]).delete()
    return Counter(tenant_id for _, tenant_id in picked)


def _receipt_deletions(per_table: dict[str, Counter[str]], now: datetime) -> None:
    """One signed deletion receipt per tenant that lost rows in this batch (NFR-3)."""
    tenants = sorted({tenant for counts in per_table.values() for tenant in counts})
    for tenant in tenants:
        counts = {table: counts[tenant] for table, counts in per_table.items() if counts[tenant]}
        receipt_create(
            build=lambda rid, t=tenant, c=counts: deletion_body(
                receipt_id=rid, tenant_id=t, reason="retention", counts=c, now=now
            )
        )


def retention_purge_batch(*, now: datetime, batch_size: int, tenant_id: str | None = None) -> PurgeReport:
    """Delete up to ``batch_size`` expired decisions, outcomes and signals each (NFR-3).

    Windows are each tenant's (``decisions.retention_windows``: policy, Data Governance, or 90 days
    for decisions and signals, 365 for outcomes, 30 for rejected-signal records). Rows with
    ``legal_hold=true`` are never deleted. Deleting a decision deletes its actions and approvals;
    its outcomes stay (their links set to NULL) until their own retention ends; deliveries and LLM
    revisions go with their actions. Each tenant that lost rows gets a signed
    ``deletion`` receipt with the counts, in the same transaction.

    Rejected-signal records (reason and message shape only, no content) are operational records:
    they go after the log window, without a receipt.

    Args:
        now: the reference time (timezone-aware).
        batch_size: maximum rows deleted per table in this call; must be positive.
        tenant_id: only this tenant's rows (``purge_retention --tenant``); every tenant by default.
    Raises:
        ValueError: ``batch_size`` is not positive.
    """
    if batch_size <= 0:
        raise ValueError("batch_size must be positive")
    rows = _expired_rows(now, _windows(tenant_id), tenant_id)
    with tenant_atomic():
        # The deletion receipts commit with the deletions they attest.
        deleted = {
            table: _delete_batch(rows[table], batch_size) for table in ("decisions", "outcomes", "signals")
        }
        _receipt_deletions(deleted, now)
        rejected = _delete_batch(rows["rejected_signals"], batch_size)
    totals = {table: sum(counts.values()) for table, counts in deleted.items()}
    totals["rejected_signals"] = sum(rejected.values())
    return PurgeReport(**totals, more=batch_size in totals.values())
