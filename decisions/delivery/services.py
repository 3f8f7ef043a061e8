"""Delivery of actions to their surfaces (FR-8, spec 12.4): an outbox, like receipts.

Each action gets one ``Delivery`` per surface, written with the decision, and is pushed to
the surface's peer when one is configured: Alerting (``ALERTING_URL``), the Edge Agent for the
IDE (``EDGE_AGENT_URL``), CI (``CI_DELIVERY_URL``). Otherwise it is ``recorded``: the IDE pulls
its nudges (``/v1/mmm/actors/{id}/nudges``) and CI reads the decision. A pending delivery is
sent by the ``delivery.send`` task after commit, retried, and re-enqueued by the sweep, so a
decision never waits on a surface.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from decisions.delivery.models import Delivery, DeliveryStatus
from decisions.models import Action, LLMStatus
from mmm_project import metrics
from mmm_project.background.outbox import Outbox
from mmm_project.clients import alerting, surfaces
from mmm_project.clients.alerting import send_notification
from mmm_project.vocabulary import Surface

logger = logging.getLogger(__name__)


def _pushed(surface: str) -> bool:
    """Whether ``surface`` has a peer to push to (else the delivery is recorded for pulling)."""
    if surface == Surface.ALERT:
        return alerting.client.configured
    return surfaces.PATHS[surface][0].configured


def _initial_status(action: Action, surface: str) -> str:
    if not _pushed(surface):
        return DeliveryStatus.RECORDED
    # Content an LLM is still writing goes out once enrichment settles (decisions.delivery.enrichment).
    return DeliveryStatus.HELD if action.llm_status == LLMStatus.PENDING else DeliveryStatus.PENDING


OUTBOX = Outbox(
    model=Delivery,
    done_field="delivered_at",
    sweep_age_setting="DELIVERY_SWEEP_AGE_SECONDS",
    task_name="delivery.send",
)


def deliveries_prepare(*, actions: Iterable[Action]) -> list[Delivery]:
    """One delivery per action and surface, not stored yet: the caller writes them in its
    transaction (``rows_insert`` or ``bulk_create``), then calls ``deliveries_stored``."""
    now = timezone.now()
    return [
        Delivery(
            tenant_id=action.tenant_id,
            action=action,
            surface=surface,
            status=_initial_status(action, surface),
            created_at=now,
            updated_at=now,
            next_attempt_at=OUTBOX.first_attempt_due(now),
        )
        for action in actions
        for surface in action.surfaces
    ]


def deliveries_stored(deliveries: list[Delivery]) -> None:
    """After the deliveries are written: count the recorded ones, push the others after commit."""
    for delivery in deliveries:
        if delivery.status == DeliveryStatus.RECORDED:
            metrics.ACTIONS_DELIVERED.labels(delivery.tenant_id, delivery.surface, "recorded").inc()
    OUTBOX.enqueue_after_commit(d.id for d in deliveries if d.status == DeliveryStatus.PENDING)


def _notification(delivery: Delivery) -> dict[str, object]:
    action = delivery.action
    revision = action.revisions.order_by("-revision").first()  # LLM-written content, when there is some
    payloads = revision.surface_payloads if revision else action.surface_payloads
    alert = payloads.get("alert", {}).get("notification", {})
    return {
        "notification_id": str(delivery.id),
        "tenant_id": delivery.tenant_id,
        "decision_id": str(action.decision_id),
        "action_id": str(action.id),
        "action_type": action.type,
        "title": alert.get("title", action.payload.get("title", "")),
        "text": alert.get("text", action.payload.get("body", "")),
        "severity": alert.get("severity", "info"),
        "evidence_links": action.payload.get("evidence_links", []),
        "requires_consent": action.requires_consent,
        "surface": delivery.surface,
        "surface_payload": payloads.get(delivery.surface, {}),
    }


def _push(delivery: Delivery) -> None:
    document = _notification(delivery)
    if delivery.surface == Surface.ALERT:
        send_notification(document)
    else:
        surfaces.push(delivery.surface, document)


def _delivery_result(delivery: Delivery, result: str) -> None:
    metrics.ACTIONS_DELIVERED.labels(delivery.tenant_id, delivery.surface, result).inc()


def delivery_send(*, delivery_id: str) -> str:
    """Push one pending delivery; return its status afterwards (or ``"skipped"``).

    Raises:
        PeerUnavailable: after recording the attempt, so the caller can retry with backoff.
    """
    return OUTBOX.send(
        delivery_id,
        deliver=_push,
        on_result=_delivery_result,
    )


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Re-enqueue pending deliveries whose next attempt is due (or stuck sending); return how many."""
    return OUTBOX.sweep(min_age=timedelta(seconds=settings.DELIVERY_SWEEP_AGE_SECONDS), now=now)
