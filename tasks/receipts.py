"""Receipt tasks (queue ``receipts``): emission to ERIS with retry, and the outbox sweep (FR-12, NFR-6)."""

from __future__ import annotations

from celery import shared_task

from receipts.models import Receipt
from receipts.services import receipt_send, receipts_sweep
from tasks.retrying import RETRY_COUNTDOWNS, call_peer_with_retries


@shared_task(name="receipts.emit", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def receipt_send_task(self, receipt_id: str) -> str:
    """Send one receipt (``receipt_send``); a transient ERIS failure is recorded on the row and retried.

    After the last retry the receipt stays ``pending`` for the sweep (nothing is lost) and the task
    fails (``GaveUpForNow``) so that Flower shows it; otherwise it returns the receipt's status.
    """
    return call_peer_with_retries(
        self,
        lambda: receipt_send(receipt_id=receipt_id),
        lambda: Receipt.objects.values_list("status", flat=True).get(pk=receipt_id),
        fail_after_last_retry=True,
    )


@shared_task(name="receipts.sweep", acks_late=True)
def receipts_sweep_task() -> int:
    """Beat task (``receipts_sweep``): re-enqueue receipts left pending (broker down, worker lost)."""
    return receipts_sweep()
