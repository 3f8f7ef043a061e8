"""Signed receipts for ledger tests, made by the real service (admin receipts are the cheapest)."""

from __future__ import annotations

from receipts.models import Receipt
from receipts.services import admin_receipt_create


def make_receipts(count: int, *, tenant_id: str = "tenant-a", start: int = 0) -> list[Receipt]:
    return [
        admin_receipt_create(
            tenant_id=tenant_id,
            actor_id="lead-1",
            resource_type="playbook",
            resource_id=f"pb-{start + i}",
            operation="update",
            before={"status": "draft"},
            after={"status": "published"},
        )
        for i in range(count)
    ]
