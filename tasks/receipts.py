"""Receipt tasks (queue ``receipts``): emission to ERIS with retry, and the outbox sweep (FR-12, NFR-6)."""

from __future__ import annotations

from celery import shared_task

from mmm_project.clients import PeerUnavailable
from receipts.services import receipt_send, receipts_sweep


@shared_task(
    name="receipts.emit",
    acks_late=True,
    autoretry_for=(PeerUnavailable,),
    retry_backoff=0.5,  # 0.5 s, 1 s, 2 s (spec 12.6, NFR-6)
    retry_jitter=False,
    max_retries=3,
)
def emit_receipt(receipt_id: str) -> str:
    """Send one receipt; a transient ERIS failure is recorded on the row and retried.

    After the last retry the receipt stays ``pending`` for the sweep (nothing is lost).
    """
    return receipt_send(receipt_id=receipt_id)


@shared_task(name="receipts.sweep", acks_late=True)
def sweep_receipts() -> int:
    """Beat task: re-enqueue receipts left pending for over a minute (broker down, worker lost)."""
    return receipts_sweep()
