"""Retention purge of decisions, outcomes and signals (NFR-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Q

from decisions.models import Decision, Outcome, Signal
from preferences.models import TenantPolicy

DEFAULT_DECISION_RETENTION_DAYS = TenantPolicy._meta.get_field("decision_retention_days").default
DEFAULT_OUTCOME_RETENTION_DAYS = TenantPolicy._meta.get_field("outcome_retention_days").default


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted by one purge batch, per table. ``more`` is true when a batch was full."""

    decisions: int
    outcomes: int
    signals: int
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


def _delete_batch(model: type[models.Model], condition: Q, batch_size: int) -> int:
    ids = list(model.objects.filter(condition, legal_hold=False).values_list("pk", flat=True)[:batch_size])
    if ids:
        model.objects.filter(pk__in=ids).delete()
    return len(ids)


def retention_purge_batch(*, now: datetime, batch_size: int) -> PurgeReport:
    """Delete up to ``batch_size`` expired decisions, outcomes and signals each (NFR-3).

    Retention comes from each tenant's policy (``decision_retention_days`` for decisions and
    signals, ``outcome_retention_days`` for outcomes), defaulting to 90 and 365 days. Rows with
    ``legal_hold=true`` are never deleted. Deleting a decision deletes its actions and approvals;
    its outcomes stay (their links set to NULL) until their own retention ends.

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
        decisions = _delete_batch(Decision, _expired(now, "created_at", *decision_days), batch_size)
    with transaction.atomic():
        outcomes = _delete_batch(Outcome, _expired(now, "created_at", *outcome_days), batch_size)
    with transaction.atomic():
        signals = _delete_batch(Signal, _expired(now, "received_at", *decision_days), batch_size)
    more = batch_size in (decisions, outcomes, signals)
    return PurgeReport(decisions=decisions, outcomes=outcomes, signals=signals, more=more)
