"""Receipt writes: sign and store (the outbox), send to ERIS, sweep what was left behind (FR-12, NFR-6).

Statuses: ``local`` (no ERIS configured: the local ledger), ``pending`` (waiting to be sent),
``sending`` (claimed by a worker), ``sent``, ``failed`` (ERIS refused it with a 4xx; a transient
failure only pushes the next attempt back, see ``mmm_project.background.outbox``). A receipt accepted into
the outbox is in the database before the request that made it answers; Celery only moves it on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from mmm_project import metrics
from mmm_project.background.outbox import Outbox
from mmm_project.clients.eris import post_receipt
from mmm_project.events import publish_after_commit
from receipts.documents import admin_config_body
from receipts.ledger.hashing import leaf_hash
from receipts.ledger.services import receipt_log_append_soon
from receipts.models import Receipt, ReceiptStatus
from receipts.pseudonyms import receipt_body_pseudonymise
from receipts.signing import ALGORITHM, sign_canonical

logger = logging.getLogger(__name__)


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt as ERIS receives it: the signed body plus ``signature`` {algorithm, kid, value}."""
    return {
        **receipt.payload,
        "signature": {"algorithm": ALGORITHM, "kid": receipt.kid, "value": receipt.signature},
    }


def receipt_prepare(*, build: Callable[[str], dict[str, Any]]) -> Receipt:
    """The signed receipt, not stored yet: the caller writes it (``rows_insert`` or ``save``) in its
    transaction, then calls ``receipt_stored``. ``build`` as for ``receipt_create``."""
    receipt_id = uuid.uuid4()
    now = timezone.now()
    # Receipts never hold an actor id: the signed body carries its pseudonym (NFR-3).
    body = receipt_body_pseudonymise(build(str(receipt_id)))
    signature, kid, signed = sign_canonical(body)
    return Receipt(
        receipt_id=receipt_id,
        tenant_id=body["tenant_id"],
        kind=body["kind"],
        decision_id=body.get("decision_id"),
        payload=body,
        signature=signature,
        kid=kid,
        # Its receipt-log leaf, over the signed bytes as they are now (receipts.ledger.hashing).
        leaf_hash=leaf_hash(signed),
        status=ReceiptStatus.PENDING if settings.ERIS_URL else ReceiptStatus.LOCAL,
        created_at=now,
        updated_at=now,
        next_attempt_at=OUTBOX.first_attempt_due(now),
    )


def receipt_stored(receipt: Receipt) -> None:
    """After ``receipt`` is written: its emission to ERIS and its log append, once the caller commits."""
    if receipt.status == ReceiptStatus.PENDING:
        OUTBOX.enqueue_after_commit([receipt.receipt_id])
    receipt_log_append_soon(tenant_id=receipt.tenant_id)  # the tamper-evident log, off this path


def receipt_create(*, build: Callable[[str], dict[str, Any]]) -> Receipt:
    """Sign and store one receipt in the caller's transaction; enqueue its emission after commit.

    Args:
        build: called with the new receipt id, returns the body (``receipts.documents``); the body
            must carry ``kind``, ``tenant_id`` and ``decision_id``.
    Returns the stored receipt: ``pending`` with ``ERIS_URL`` set, else ``local``.
    """
    receipt = receipt_prepare(build=build)
    receipt.save(force_insert=True)
    receipt_stored(receipt)
    return receipt


def admin_receipt_create(
    *,
    tenant_id: str,
    actor_id: str,
    resource_type: str,
    resource_id: str,
    operation: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> Receipt:
    """An ``admin_config`` receipt with redacted before/after state, plus the audit log line (NFR-7)."""
    now = timezone.now()
    receipt = receipt_create(
        build=lambda rid: admin_config_body(
            receipt_id=rid,
            tenant_id=tenant_id,
            actor_id=actor_id,
            resource_type=resource_type,
            resource_id=resource_id,
            operation=operation,
            before=before,
            after=after,
            now=now,
        )
    )
    publish_after_commit(
        topic="mmm.admin_config",
        tenant_id=tenant_id,
        event_type="admin_config.changed",
        payload={
            "resource_type": resource_type,
            "resource_id": resource_id,
            "operation": operation,
            "receipt_id": str(receipt.receipt_id),
        },
    )
    logging.getLogger("mmm.audit").info(
        "admin change",
        extra={
            "tenant_id": tenant_id,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "operation": operation,
            "receipt_id": str(receipt.receipt_id),
        },
    )
    return receipt


@dataclass(frozen=True)
class AdminAudit:
    """How one kind of admin-managed resource is audited (FR-13, NFR-7): its ``resource_type`` and
    ``state``, the function giving what a receipt records of it (never secrets).

    ``PLAYBOOK_AUDIT.record(playbook, actor_id=..., operation="publish", before=state_before)``
    writes the ``admin_config`` receipt with the resource's state after the change and logs the
    audit line, in the caller's transaction.
    """

    resource_type: str
    state: Callable[[Any], dict[str, Any]]

    def record(
        self, resource: Any, *, actor_id: str, operation: str, before: dict[str, Any] | None
    ) -> Receipt:
        return admin_receipt_create(
            tenant_id=resource.tenant_id,
            actor_id=actor_id,
            resource_type=self.resource_type,
            resource_id=str(resource.pk),
            operation=operation,
            before=before,
            after=self.state(resource),
        )


def _emission_result(receipt: Receipt, result: str) -> None:
    metrics.ERIS_EMISSIONS.labels(receipt.tenant_id, result).inc()
    if result == "rejected":
        logger.error("ERIS refused a receipt", extra={"receipt_id": str(receipt.receipt_id)})
    elif result in ("retry", "failed"):
        logger.warning(
            "ERIS unavailable; receipt kept", extra={"receipt_id": str(receipt.receipt_id), "result": result}
        )


OUTBOX = Outbox(
    model=Receipt,
    done_field="sent_at",
    sweep_age_setting="RECEIPT_SWEEP_AGE_SECONDS",
    task_name="receipts.emit",
)


def receipt_send(*, receipt_id: str) -> str:
    """Deliver one pending receipt to ERIS; return its status afterwards (or ``"skipped"``).

    At most once from here (outbox claim); ERIS de-duplicates on the idempotency key.

    Raises:
        PeerUnavailable: after recording the attempt, so the caller can retry with backoff.
    """
    return OUTBOX.send(
        receipt_id,
        deliver=lambda receipt: post_receipt(receipt_document(receipt)),
        on_result=_emission_result,
    )


def receipts_sweep(*, now: datetime | None = None, due_only: bool = True) -> int:
    """Re-enqueue pending receipts whose next attempt is due (all pending ones with
    ``due_only=False``) and receipts stuck sending; in the embedded default (no worker) send them
    here. Returns how many were queued."""
    min_age = timedelta(seconds=settings.RECEIPT_SWEEP_AGE_SECONDS)
    return OUTBOX.sweep(min_age=min_age, now=now, due_only=due_only)
