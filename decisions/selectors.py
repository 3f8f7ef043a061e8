"""Reads of decisions and their actions, always scoped to one tenant (NFR-5)."""

from __future__ import annotations

from django.db.models import QuerySet

from decisions.models import Decision
from mmm_project.tenancy import get_for_tenant


def decision_get(*, tenant_id: str, decision_id: object) -> Decision:
    """Return one decision of ``tenant_id`` with its actions prefetched.

    Raises:
        NotFound: unknown id, malformed id, or a decision of another tenant (404).
    """
    queryset = Decision.objects.prefetch_related("actions")
    return get_for_tenant(queryset, tenant_id=tenant_id, pk=decision_id, resource="Decision")


def decision_list(*, tenant_id: str, actor_id: str | None = None) -> QuerySet[Decision]:
    """Return the tenant's decisions, newest first (uses the ``tenant_id, created_at`` index)."""
    queryset = Decision.objects.for_tenant(tenant_id)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    return queryset.order_by("-created_at")
