"""Delivery tasks (queue ``delivery``): push actions to peer surfaces with retry; sweep (FR-8)."""

from __future__ import annotations

from celery import shared_task

from decisions.delivery.models import Delivery
from decisions.delivery.services import deliveries_sweep, delivery_send
from tasks.regions import sweep_every_region
from tasks.retrying import PEER_TASK, call_peer_with_retries


@shared_task(name="delivery.send", bind=True, acks_late=True, **PEER_TASK)
def delivery_send_task(self, delivery_id: str) -> str:
    """Push one delivery (``delivery_send``); transient failures retried, then left pending for the sweep
    and the task fails (``GaveUpForNow``), so that Flower shows it."""
    return call_peer_with_retries(
        self,
        lambda: delivery_send(delivery_id=delivery_id),
        lambda: Delivery.objects.values_list("status", flat=True).get(pk=delivery_id),
        fail_after_last_retry=True,
    )


@shared_task(name="delivery.sweep", acks_late=True)
def deliveries_sweep_task() -> int:
    """Beat task (``deliveries_sweep``): re-enqueue deliveries left pending (broker, worker or peer down)."""
    return sweep_every_region(deliveries_sweep)
