"""Event publication (spec 11.9): ``mmm.decisions``, ``mmm.outcomes``, ``mmm.admin_config``.

Published after commit to the topic exchange ``mmm.events`` (routing key = topic) on
``EVENTS_BROKER_URL`` (any kombu transport: RabbitMQ, Redis; Kafka through kombu's
``confluentkafka://`` transport). Every event is ``{"event_id", "tenant_id", "timestamp_utc",
"event_type", "payload"}`` with ids, types and counts only. Publication never fails or slows
the request: one attempt (on a fresh connection, if the held one had gone stale), and a breaker
skips publishing for 30 s after a failure.

Each process (and thread) holds one producer on its own connection, opened on first use and
re-opened after a fork or a failure: kombu's producer pool lends out and takes back a producer
per publish, which cost a decide about as much CPU as the publish itself (issue 13).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from typing import Any

import orjson
import pybreaker
from django.conf import settings
from django.utils import timezone
from kombu import Connection, Exchange, Producer

from mmm_project.background.after_response import after_commit_and_response

logger = logging.getLogger(__name__)

EXCHANGE = Exchange("mmm.events", type="topic", durable=True)
TOPICS = ("mmm.decisions", "mmm.outcomes", "mmm.admin_config")

publish_breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=30, name="event-publish")


_held = threading.local()  # .producer: (pid, url, Producer) of this thread


def _producer(url: str) -> tuple[Producer, bool]:
    """This process's and thread's producer for ``url`` (its connection opens on first publish),
    and whether it was held already (its connection may have gone stale since)."""
    held = getattr(_held, "producer", None)
    if held is not None and held[:2] == (os.getpid(), url):
        return held[2], True
    # A producer inherited through fork() is dropped, never closed: its socket is the parent's.
    connection = Connection(
        url,
        connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        transport_options=settings.PUBLISH_TRANSPORT_OPTIONS,
    )
    producer = Producer(connection)
    _held.producer = (os.getpid(), url, producer)
    return producer, False


def _drop_producer() -> None:
    held = getattr(_held, "producer", None)
    _held.producer = None
    if held is not None and held[0] == os.getpid():
        with contextlib.suppress(Exception):  # closing a broken connection may fail too
            held[2].connection.release()


def _send(topic: str, event: dict[str, Any]) -> None:
    body = orjson.dumps(event)
    while True:
        producer, held = _producer(settings.EVENTS_BROKER_URL)
        try:
            producer.publish(
                body,
                exchange=EXCHANGE,
                routing_key=topic,
                declare=[EXCHANGE],
                content_type="application/json",
                content_encoding="utf-8",
                retry=False,
                delivery_mode=2,
            )
            return
        except Exception:
            _drop_producer()
            if not held:  # a new connection failed: the broker is down (the breaker opens)
                raise
            # else the held connection had gone stale (broker restarted): once more, on a new one


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
