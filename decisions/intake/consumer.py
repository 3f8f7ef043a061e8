"""Broker intake (FR-1, spec 12.1-12.3): signals from ``pm3.signals.normalized``,
``ubi.behavioural_signals`` and ``detection.alerts``.

Each topic is a topic exchange; the engine's instances share one durable queue per topic,
``mmm-engine.<topic>`` (consumer group ``mmm-engine``), so several consumers split the load.
Messages are FR-1 envelopes (JSON). Valid ones are stored and decided like any signal; invalid
ones are recorded with their reason (``RejectedSignal``) and rejected without requeue, so a bad
message cannot loop. UBI signals are kept only for the tenants in ``INGEST_UBI_TENANTS`` (all
when empty); detection alerts only at high severity or above. A database failure requeues the
message (at-least-once; stored signals are de-duplicated on their id).

``data_governance.deletion_requests`` carries Data Governance's actor deletions (NFR-3):
``{"tenant_id": ..., "actor_id": ...}`` becomes a deletion request (``decisions.privacy``).

Tracing (FR-15): a message's W3C ``traceparent`` header, when present, is the parent of the
``mmm.intake`` span in which its signal is stored and its decision enqueued; the Celery task
message carries that trace on to the worker's ``mmm.decision``. A signal the sweep re-enqueues
later (broker down, worker lost) is decided in a trace of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from kombu import Connection, Exchange, Queue
from kombu.mixins import ConsumerMixin

from decisions.intake.envelope import envelope_validate
from decisions.intake.services import signal_reject, signals_ingest
from decisions.privacy.services import actor_deletion_request
from mmm_project import tracing
from mmm_project.residency import tenant_context
from mmm_project.vocabulary import Severity

logger = logging.getLogger(__name__)

DELETION_TOPIC = "data_governance.deletion_requests"
TOPICS = ("pm3.signals.normalized", "ubi.behavioural_signals", "detection.alerts", DELETION_TOPIC)
GROUP = "mmm-engine"


def topic_queue(topic: str) -> Queue:
    """The shared queue of the ``mmm-engine`` group on ``topic``'s exchange (all routing keys)."""
    return Queue(
        f"{GROUP}.{topic}", Exchange(topic, type="topic", durable=True), routing_key="#", durable=True
    )


def handle_message(topic: str, body: Any, *, ubi_tenants: Iterable[str] = ()) -> str:
    """Validate and store one message body; return ``accepted``, ``duplicate``, ``filtered`` or ``rejected``.

    Raises:
        DatabaseError: storage failed; the caller requeues the message.
    """
    tenant = body.get("tenant_id") if isinstance(body, dict) else None
    # Stored in the region of the tenant the message names (NFR-3); one naming none: the default.
    with tenant_context(tenant[:128] if isinstance(tenant, str) else ""):
        return _handle(topic, body, ubi_tenants)


def _handle(topic: str, body: Any, ubi_tenants: Iterable[str]) -> str:
    channel = f"broker:{topic}"
    if topic == DELETION_TOPIC:
        return _deletion_request(body, channel)
    envelope, errors = envelope_validate(body) if isinstance(body, dict) else (None, {})
    if envelope is None:
        reason = f"invalid envelope: {errors}" if isinstance(body, dict) else "not a JSON object"
        tenant = body.get("tenant_id", "") if isinstance(body, dict) else ""
        signal_reject(tenant_id=str(tenant)[:128], channel=channel, reason=reason, message=body)
        return "rejected"
    tenants = set(ubi_tenants)
    if topic == "ubi.behavioural_signals" and tenants and envelope["tenant_id"] not in tenants:
        return "filtered"
    if topic == "detection.alerts" and Severity.rank(envelope["severity"]) < Severity.rank(Severity.HIGH):
        return "filtered"
    result = signals_ingest(tenant_id=envelope["tenant_id"], envelopes=[envelope], channel=channel)
    return "accepted" if result.accepted else "duplicate"


def _deletion_request(body: Any, channel: str) -> str:
    """A Data Governance deletion: ``accepted`` once stored, ``rejected`` (recorded) when malformed."""
    tenant = body.get("tenant_id") if isinstance(body, dict) else None
    actor = body.get("actor_id") if isinstance(body, dict) else None
    if not (isinstance(tenant, str) and tenant and isinstance(actor, str) and actor.strip()):
        signal_reject(
            tenant_id=str(tenant or "")[:128],
            channel=channel,
            reason="a deletion request needs tenant_id and actor_id",
            message=body,
        )
        return "rejected"
    actor_deletion_request(tenant_id=tenant[:128], actor_id=actor[:255], requested_via="broker")
    return "accepted"


class SignalConsumer(ConsumerMixin):
    """kombu consumer over the topics' queues; ``on_handled`` sees each outcome (tests, metrics)."""

    def __init__(
        self,
        connection: Connection,
        topics: Iterable[str] = TOPICS,
        *,
        on_handled: Callable[[str, str], None] | None = None,
    ) -> None:
        self.connection = connection
        self.topics = list(topics)
        self.on_handled = on_handled or (lambda topic, outcome: None)
        self.ubi_tenants = list(settings.INGEST_UBI_TENANTS)

    def get_consumers(self, Consumer, channel):
        return [
            Consumer(
                queues=[topic_queue(topic)],
                callbacks=[self._callback(topic)],
                accept=["json"],
                prefetch_count=10,
                on_decode_error=self._decode_error(topic),
            )
            for topic in self.topics
        ]

    def on_consume_end(self, connection, channel) -> None:
        # This thread's database connections end with it.
        connections.close_all()

    def _callback(self, topic: str):
        def on_message(body: Any, message) -> None:
            # As Celery does around tasks: drop connections that are broken or past CONN_MAX_AGE.
            close_old_connections()
            try:
                with tracing.consumed(
                    "mmm.intake", getattr(message, "headers", None), **{"messaging.destination.name": topic}
                ):
                    outcome = handle_message(topic, body, ubi_tenants=self.ubi_tenants)
            except DatabaseError as exc:
                logger.warning(
                    "signal not stored; requeued", extra={"topic": topic, "error": type(exc).__name__}
                )
                message.requeue()
                return
            if outcome == "rejected":
                message.reject(requeue=False)
            else:
                message.ack()
            self.on_handled(topic, outcome)

        return on_message

    def _decode_error(self, topic: str):
        def on_decode_error(message, exc: Exception) -> None:
            signal_reject(
                tenant_id="",
                channel=f"broker:{topic}",
                reason=f"undecodable message: {type(exc).__name__}",
                message=None,
            )
            message.reject(requeue=False)
            self.on_handled(topic, "rejected")

        return on_decode_error
