"""Event publication (spec 11.9): ``mmm.decisions``, ``mmm.outcomes``, ``mmm.admin_config``.

Published after commit to the topic exchange ``mmm.events`` (routing key = topic) on
``EVENTS_BROKER_URL`` (any kombu transport: RabbitMQ, Redis; Kafka through kombu's
``confluentkafka://`` transport). Every event is ``{"event_id", "tenant_id", "timestamp_utc",
"event_type", "payload"}`` with ids, types and counts only. Publication never fails or slows
the request: one attempt, and a breaker skips publishing for 30 s after a failure.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache
from typing import Any

import pybreaker
from django.conf import settings
from django.utils import timezone
from kombu import Connection, Exchange
from kombu.pools import producers

from mmm_project.background.after_response import after_commit_and_response

logger = logging.getLogger(__name__)

EXCHANGE = Exchange("mmm.events", type="topic", durable=True)
TOPICS = ("mmm.decisions", "mmm.outcomes", "mmm.admin_config")

publish_breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=30, name="event-publish")


@lru_cache(maxsize=4)
def _connection(url: str) -> Connection:
    """The broker connection description per URL; kombu's pool lends its producers (and their
    sockets) out per publish, so building a ``Connection`` per event is not needed."""
    return Connection(
        url,
        connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        transport_options=settings.PUBLISH_TRANSPORT_OPTIONS,
    )


def _send(topic: str, event: dict[str, Any]) -> None:
    with producers[_connection(settings.EVENTS_BROKER_URL)].acquire(block=True, timeout=2) as producer:
        producer.publish(
            event,
            exchange=EXCHANGE,
            routing_key=topic,
            declare=[EXCHANGE],
            serializer="json",
            retry=False,
            delivery_mode=2,
        )


def publish_event(*, topic: str, tenant_id: str, event_type: str, payload: dict[str, Any]) -> bool:
    """Publish now; return whether it went out. Never raises."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    if not settings.EVENTS_BROKER_URL:
        return False  # embedded default: no broker, no event stream
    event = {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "timestamp_utc": timezone.now().isoformat(),
        "event_type": event_type,
        "payload": payload,
    }
    try:
        publish_breaker.call(_send, topic, event)
    except Exception as exc:  # noqa: BLE001 - events are best effort; the database is the record
        logger.warning("event not published", extra={"topic": topic, "error": type(exc).__name__})
        return False
    return True


def publish_after_commit(*, topic: str, tenant_id: str, event_type: str, payload: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (nothing is announced that rolls back) and,
    in a request, once its response is sent (``mmm_project.background.after_response``)."""
    after_commit_and_response(
        lambda: publish_event(topic=topic, tenant_id=tenant_id, event_type=event_type, payload=payload)
    )
