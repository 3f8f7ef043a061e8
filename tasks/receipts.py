"""Receipt tasks (queue ``receipts``): emission to ERIS with retry, the outbox sweep (FR-12, NFR-6),
and the receipt ledger's append, tree head emission and sweep (``receipts.ledger``)."""

from __future__ import annotations

from celery import shared_task

from mmm_project.background.queueing import enqueue
from receipts.ledger.models import SignedTreeHead
from receipts.ledger.services import APPEND_BATCH, receipt_log_append, receipt_log_sweep, tree_head_send
from receipts.models import Receipt
from receipts.services import receipt_send, receipts_sweep
from tasks.regions import sweep_every_region
from tasks.retrying import PEER_TASK, call_peer_with_retries


@shared_task(name="receipts.emit", bind=True, acks_late=True, **PEER_TASK)
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
    return sweep_every_region(receipts_sweep)


@shared_task(name="receipts.log_append", acks_late=True)
def receipt_log_append_task(tenant_id: str) -> int:
    """Append the tenant's waiting receipts to its log (``receipt_log_append``), one bounded batch;
    a full batch re-enqueues the task for the rest. Safe to run twice: the tenant's head is locked."""
    appended = receipt_log_append(tenant_id=tenant_id)
    if appended >= APPEND_BATCH:
        enqueue("receipts.log_append", [tenant_id], from_request=False)
    return appended


@shared_task(name="receipts.head_emit", bind=True, acks_late=True, **PEER_TASK)
def tree_head_send_task(self, head_id: str) -> str:
    """Send one signed tree head to ERIS (``tree_head_send``), retried like a receipt."""
    return call_peer_with_retries(
        self,
        lambda: tree_head_send(head_id=head_id),
        lambda: SignedTreeHead.objects.values_list("status", flat=True).get(pk=head_id),
        fail_after_last_retry=True,
    )


@shared_task(name="receipts.log_sweep", acks_late=True)
def receipt_log_sweep_task() -> int:
    """Beat task (``receipt_log_sweep``): append what no enqueue covered; re-send pending heads."""
    return sweep_every_region(receipt_log_sweep)
