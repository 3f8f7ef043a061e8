"""Delivery tasks (queue ``delivery``): push actions to peer surfaces with retry; sweep (FR-8)."""

from __future__ import annotations

from celery import shared_task

from decisions.delivery import deliveries_sweep, delivery_send
from decisions.models import Delivery
from tasks.retrying import RETRY_COUNTDOWNS, call_peer_with_retries


@shared_task(name="delivery.send", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def send_delivery(self, delivery_id: str) -> str:
    """Push one delivery (Alerting); transient failures retried, then left pending for the sweep."""
    return call_peer_with_retries(
        self,
        lambda: delivery_send(delivery_id=delivery_id),
        lambda: Delivery.objects.values_list("status", flat=True).get(pk=delivery_id),
    )


@shared_task(name="delivery.sweep", acks_late=True)
def sweep_deliveries() -> int:
    """Beat task: re-enqueue deliveries left pending (broker down, worker lost, peer down)."""
    return deliveries_sweep()
