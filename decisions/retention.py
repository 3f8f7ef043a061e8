"""Retention purge of decisions, outcomes, signals and rejected-signal records (NFR-3)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q

from decisions.models import Decision, Outcome, RejectedSignal, Signal
from preferences.models import TenantPolicy
from receipts.documents import deletion_body
from receipts.services import receipt_create

DEFAULT_DECISION_RETENTION_DAYS = TenantPolicy._meta.get_field("decision_retention_days").default
DEFAULT_OUTCOME_RETENTION_DAYS = TenantPolicy._meta.get_field("outcome_retention_days").default


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted by one purge batch, per table. ``more`` is true when a batch was full."""

    decisions: int
    outcomes: int
    signals: int
    rejected_signals: int
    more: bool


def _expired(now: datetime, column: str, days_field: str, default_days: int) -> Q:
    """Build ``Q`` matching rows older than their tenant's retention for ``column``.

    Tenants with a stored policy use its ``days_field``; every other tenant the default.
    """
    custom = TenantPolicy.objects.values_list("tenant_id", days_field)
    condition = Q(**{f"{column}__lt": now - timedelta(days=default_days)}) & ~Q(
        tenant_id__in=TenantPolicy.objects.values("tenant_id")
    )
    for tenant_id, days in custom:
        condition |= Q(tenant_id=tenant_id, **{f"{column}__lt": now - timedelta(days=days)})
    return condition


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


def retention_purge_batch(*, now: datetime, batch_size: int) -> PurgeReport:
    """Delete up to ``batch_size`` expired decisions, outcomes and signals each (NFR-3).

    Retention comes from each tenant's policy (``decision_retention_days`` for decisions and
    signals, ``outcome_retention_days`` for outcomes), defaulting to 90 and 365 days. Rows with
    ``legal_hold=true`` are never deleted. Deleting a decision deletes its actions and approvals;
    its outcomes stay (their links set to NULL) until their own retention ends; deliveries and LLM
    revisions go with their actions. Each tenant that lost rows gets a signed
    ``deletion`` receipt with the counts, in the same transaction.

    Rejected-signal records (reason and message shape only, no content) are operational records:
    they go after ``settings.REJECTED_SIGNAL_RETENTION_DAYS`` (default 30, the spec's log
    retention), without a receipt.

    Args:
        now: the reference time (timezone-aware).
        batch_size: maximum rows deleted per table in this call; must be positive.
    Raises:
        ValueError: ``batch_size`` is not positive.
    """
    if batch_size <= 0:
        raise ValueError("batch_size must be positive")
    decision_days = ("decision_retention_days", DEFAULT_DECISION_RETENTION_DAYS)
    outcome_days = ("outcome_retention_days", DEFAULT_OUTCOME_RETENTION_DAYS)
    with transaction.atomic():
        # The deletion receipts commit with the deletions they attest.
        held = Q(legal_hold=True)
        deleted = {
            "decisions": _delete_batch(
                Decision.objects.filter(_expired(now, "created_at", *decision_days)).exclude(held), batch_size
            ),
            "outcomes": _delete_batch(
                Outcome.objects.filter(_expired(now, "created_at", *outcome_days)).exclude(held), batch_size
            ),
            "signals": _delete_batch(
                Signal.objects.filter(_expired(now, "received_at", *decision_days)).exclude(held), batch_size
            ),
        }
        _receipt_deletions(deleted, now)
        rejected_cutoff = now - timedelta(days=settings.REJECTED_SIGNAL_RETENTION_DAYS)
        rejected = _delete_batch(RejectedSignal.objects.filter(received_at__lt=rejected_cutoff), batch_size)
    totals = {table: sum(counts.values()) for table, counts in deleted.items()}
    totals["rejected_signals"] = sum(rejected.values())
    return PurgeReport(**totals, more=batch_size in totals.values())
