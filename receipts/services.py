"""Receipt writes: sign and store (the outbox), send to ERIS, sweep what was left behind (FR-12, NFR-6).

Statuses: ``local`` (no ERIS configured: the local ledger), ``pending`` (waiting to be sent),
``sending`` (claimed by a worker), ``sent``, ``failed`` (ERIS refused it, or ``MAX_ATTEMPTS``
transient failures). A receipt accepted into the outbox is in the database before the request
that made it answers; Celery only moves it forward.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mmm_project import metrics
from mmm_project.clients import PeerRejected, PeerUnavailable
from mmm_project.clients.eris import post_receipt
from mmm_project.events import publish_after_commit
from mmm_project.queueing import enqueue
from receipts.documents import admin_config_body
from receipts.models import Receipt, ReceiptStatus
from receipts.signing import ALGORITHM, sign

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 20  # transient failures before a receipt is marked failed for an operator
STUCK_SENDING = timedelta(minutes=5)  # longer than the task hard time limit (90 s)
SWEEP_BATCH = 500  # receipts re-enqueued per sweep; one UPDATE and N publishes, a few ms each


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt as ERIS receives it: the signed body plus ``signature`` {algorithm, kid, value}."""
    return {
        **receipt.payload,
        "signature": {"algorithm": ALGORITHM, "kid": receipt.kid, "value": receipt.signature},
    }


def _enqueue(receipt_ids: list[str], *, from_request: bool = True) -> bool:
    """Queue emission tasks; in the embedded default they wait for the sweep (sending inline
    would make the request wait on ERIS)."""
    from tasks.receipts import emit_receipt

    return enqueue(emit_receipt, receipt_ids, from_request=from_request)


def receipt_create(*, build: Callable[[str], dict[str, Any]]) -> Receipt:
    """Sign and store one receipt in the caller's transaction; enqueue its emission after commit.

    Args:
        build: called with the new receipt id, returns the body (``receipts.documents``); the body
            must carry ``kind``, ``tenant_id`` and ``decision_id``.
    Returns the stored receipt: ``pending`` with ``ERIS_URL`` set, else ``local``.
    """
    receipt_id = uuid.uuid4()
    body = build(str(receipt_id))
    signature, kid = sign(body)
    receipt = Receipt.objects.create(
        receipt_id=receipt_id,
        tenant_id=body["tenant_id"],
        kind=body["kind"],
        decision_id=body.get("decision_id"),
        payload=body,
        signature=signature,
        kid=kid,
        status=ReceiptStatus.PENDING if settings.ERIS_URL else ReceiptStatus.LOCAL,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if receipt.status == ReceiptStatus.PENDING:
        transaction.on_commit(lambda: _enqueue([str(receipt_id)]))
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


def _record(receipt_id: object, **changes: Any) -> None:
    Receipt.objects.filter(pk=receipt_id).update(updated_at=timezone.now(), **changes)


def receipt_send(*, receipt_id: str) -> str:
    """Deliver one pending receipt to ERIS; return its status afterwards (or ``"skipped"``).

    Claimed by a conditional update (pending -> sending), so concurrent or repeated tasks for
    the same receipt send it at most once from here; ERIS de-duplicates on the idempotency key.

    Raises:
        PeerUnavailable: after recording the attempt, so the caller can retry with backoff.
    """
    claimed = Receipt.objects.filter(pk=receipt_id, status=ReceiptStatus.PENDING).update(
        status=ReceiptStatus.SENDING, updated_at=timezone.now()
    )
    if claimed != 1:
        return "skipped"
    receipt = Receipt.objects.get(pk=receipt_id)
    try:
        post_receipt(receipt_document(receipt))
    except PeerRejected as exc:
        _record(
            receipt_id, status=ReceiptStatus.FAILED, attempts=F("attempts") + 1, last_error=str(exc)[:500]
        )
        metrics.ERIS_EMISSIONS.labels(receipt.tenant_id, "rejected").inc()
        logger.error("ERIS refused a receipt", extra={"receipt_id": receipt_id, "error": str(exc)})
        return ReceiptStatus.FAILED
    except PeerUnavailable as exc:
        status = ReceiptStatus.FAILED if receipt.attempts + 1 >= MAX_ATTEMPTS else ReceiptStatus.PENDING
        _record(receipt_id, status=status, attempts=F("attempts") + 1, last_error=str(exc)[:500])
        metrics.ERIS_EMISSIONS.labels(
            receipt.tenant_id, "retry" if status == ReceiptStatus.PENDING else "failed"
        ).inc()
        logger.warning("ERIS unavailable; receipt kept", extra={"receipt_id": receipt_id, "status": status})
        raise
    _record(
        receipt_id,
        status=ReceiptStatus.SENT,
        attempts=F("attempts") + 1,
        last_error="",
        sent_at=timezone.now(),
    )
    metrics.ERIS_EMISSIONS.labels(receipt.tenant_id, "sent").inc()
    return ReceiptStatus.SENT


def receipts_sweep(
    *, now: datetime | None = None, min_age: timedelta | None = None, batch_size: int = SWEEP_BATCH
) -> int:
    """Re-enqueue receipts left pending for ``min_age`` (default ``RECEIPT_SWEEP_AGE_SECONDS``).

    Also returns receipts stuck in ``sending`` (a worker died mid-send) to ``pending``. A
    re-enqueued receipt's ``updated_at`` is touched so the next sweep leaves it to its task.
    """
    now = now or timezone.now()
    if min_age is None:
        min_age = timedelta(seconds=settings.RECEIPT_SWEEP_AGE_SECONDS)
    cutoff = now - min_age
    # A worker that died mid-send leaves "sending": hand those back to this sweep.
    Receipt.objects.filter(status=ReceiptStatus.SENDING, updated_at__lt=now - STUCK_SENDING).update(
        status=ReceiptStatus.PENDING, updated_at=cutoff - timedelta(seconds=1)
    )
    ids = [
        str(pk)
        for pk in Receipt.objects.filter(status=ReceiptStatus.PENDING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:batch_size]
    ]
    if not ids:
        return 0
    if current_app.conf.task_always_eager:
        # No worker to hand them to: send here, one attempt each (the next sweep retries).
        for receipt_id in ids:
            try:
                receipt_send(receipt_id=receipt_id)
            except PeerUnavailable:
                break  # ERIS is down: stop hammering it; the rest stay pending
        return len(ids)
    if not _enqueue(ids, from_request=False):
        return 0
    Receipt.objects.filter(pk__in=ids, status=ReceiptStatus.PENDING).update(updated_at=now)
    return len(ids)
