"""Reads of receipts, scoped to one tenant."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from receipts.models import Receipt


def receipt_list(
    *,
    tenant_id: str,
    decision_id: object | None = None,
    kind: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Receipt]:
    """The tenant's receipts, newest first, optionally for one decision, one kind, or since a time."""
    queryset = Receipt.objects.for_tenant(tenant_id)
    if decision_id is not None:
        queryset = queryset.filter(decision_id=decision_id)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.order_by("-created_at")
