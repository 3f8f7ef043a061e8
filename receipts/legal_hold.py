"""Legal hold (NFR-3): rows on hold are exempt from retention; placing or releasing it is audited.

A service of its own (not in ``receipts/services.py``, the receipt outbox) because it applies to
every model with a ``legal_hold`` flag: signals, decisions, outcomes and receipts.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from mmm_project.residency import tenant_atomic
from receipts.services import admin_receipt_create


def legal_hold_set(*, queryset: QuerySet, hold: bool, actor_id: str) -> dict[str, int]:
    """Place (``hold=True``) or release the legal hold on the rows of ``queryset``.

    Rows already in the asked state are left alone. For each tenant whose rows changed, one
    ``admin_config`` receipt (resource type ``legal_hold``, resource id the model label, e.g.
    ``decisions.decision``, operation ``place`` or ``release``, before/after ``{"legal_hold",
    "ids"}``) and its audit line, in the same transaction as the update.

    Returns:
        ``{tenant_id: rows changed}``, only tenants with at least one changed row.
    """
    model = queryset.model
    selected = list(queryset.values_list("pk", flat=True))
    by_tenant: dict[str, list[str]] = defaultdict(list)
    with tenant_atomic():
        # Locked so that two admins acting together record each row's change once.
        rows = (
            model._default_manager.select_for_update()
            .filter(pk__in=selected, legal_hold=not hold)
            .order_by("pk")
            .values_list("pk", "tenant_id")
        )
        for pk, tenant_id in rows:
            by_tenant[tenant_id].append(str(pk))
        changed = [pk for ids in by_tenant.values() for pk in ids]
        model._default_manager.filter(pk__in=changed).update(legal_hold=hold)
        for tenant_id, ids in sorted(by_tenant.items()):
            admin_receipt_create(
                tenant_id=tenant_id,
                actor_id=actor_id,
                resource_type="legal_hold",
                resource_id=model._meta.label_lower,
                operation="place" if hold else "release",
                before={"legal_hold": not hold, "ids": ids},
                after={"legal_hold": hold, "ids": ids},
            )
    return {tenant_id: len(ids) for tenant_id, ids in by_tenant.items()}
