"""Receipt tasks (queue ``receipts``): emission to ERIS with retry, and the outbox sweep (FR-12, NFR-6)."""

from __future__ import annotations

from celery import shared_task

from mmm_project.clients import PeerUnavailable
from receipts.models import Receipt
from receipts.services import receipt_send, receipts_sweep

# Seconds before each retry (spec 12.6, NFR-6). Explicit: Celery's retry_backoff rounds its
# factor up to a whole second, which would give 1, 2 and 4 s.
RETRY_COUNTDOWNS = (0.5, 1.0, 2.0)


@shared_task(name="receipts.emit", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def emit_receipt(self, receipt_id: str) -> str:
    """Send one receipt; a transient ERIS failure is recorded on the row and retried.

    After the last retry the receipt stays ``pending`` for the sweep (nothing is lost); the
    task returns the receipt's status.
    """
    try:
        return receipt_send(receipt_id=receipt_id)
    except PeerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            return Receipt.objects.values_list("status", flat=True).get(pk=receipt_id)
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWNS[self.request.retries]) from exc


@shared_task(name="receipts.sweep", acks_late=True)
def sweep_receipts() -> int:
    """Beat task: re-enqueue receipts left pending for over a minute (broker down, worker lost)."""
    return receipts_sweep()
