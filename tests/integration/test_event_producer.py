"""The event stream's producer (spec 11.9) on a real broker: one connection per process and thread,
a stale one replaced at once, a fork's inherited one never reused."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from kombu import Connection, Queue

from mmm_project import events
from tests.integration.helpers import service_urls

SERVICES = service_urls()
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(SERVICES is None, reason="DATABASE_URL, REDIS_URL and CELERY_BROKER_URL not set"),
]


@pytest.fixture
def stream(settings):
    settings.EVENTS_BROKER_URL = settings.CELERY_BROKER_URL
    events._drop_producer()
    events.publish_breaker.close()
    with Connection(settings.EVENTS_BROKER_URL) as connection:
        queue = Queue(
            "mmm-test-producer", events.EXCHANGE, routing_key="mmm.#", durable=False, auto_delete=True
        )
        bound = queue(connection.default_channel)
        bound.declare()
        bound.purge()

        def received(count: int) -> list[dict]:
            got, deadline = [], time.monotonic() + 10
            while len(got) < count and time.monotonic() < deadline:
                message = bound.get(no_ack=True)
                if message is None:
                    time.sleep(0.05)
                else:
                    got.append(json.loads(message.body))
            return got

        yield received
    events._drop_producer()


def _publish(n: int) -> bool:
    return events.publish_event(
        topic="mmm.decisions", tenant_id="tenant-a", event_type="decision.created", payload={"n": n}
    )


def test_events_go_out_on_one_held_connection(stream):
    assert _publish(1) and _publish(2)
    producer, held = events._producer(settings.EVENTS_BROKER_URL)
    assert held
    assert _publish(3)
    assert events._producer(settings.EVENTS_BROKER_URL)[0] is producer
    got = stream(3)
    assert [event["payload"]["n"] for event in got] == [1, 2, 3]
    assert set(got[0]) == {"event_id", "tenant_id", "timestamp_utc", "event_type", "payload"}


def test_a_stale_connection_is_replaced_and_the_event_still_goes_out(stream):
    assert _publish(1)
    producer, _ = events._producer(settings.EVENTS_BROKER_URL)
    producer.connection.connection.sock.close()  # as if the broker had restarted since
    assert _publish(2)
    assert events._producer(settings.EVENTS_BROKER_URL)[0] is not producer
    assert [event["payload"]["n"] for event in stream(2)] == [1, 2]
    assert events.publish_breaker.current_state == "closed"


def test_a_producer_inherited_through_fork_is_not_used(stream, monkeypatch):
    assert _publish(1)
    parent, _ = events._producer(settings.EVENTS_BROKER_URL)
    monkeypatch.setattr(events.os, "getpid", lambda: -1)  # this is now a forked child
    assert _publish(2)
    child, held = events._producer(settings.EVENTS_BROKER_URL)
    assert held and child is not parent
    assert parent.connection.connected  # the parent's connection was left alone
    assert [event["payload"]["n"] for event in stream(2)] == [1, 2]


def test_a_broker_down_opens_the_breaker_after_one_attempt(settings, monkeypatch):
    from tests.integration.helpers import closed_port

    settings.EVENTS_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    events._drop_producer()
    events.publish_breaker.close()
    opened = []
    real = events.Connection
    monkeypatch.setattr(events, "Connection", lambda *a, **k: opened.append(1) or real(*a, **k))
    try:
        assert not _publish(1)
        assert not _publish(2)  # the breaker skips it: no second connection attempt
        assert len(opened) == 1
        assert events.publish_breaker.current_state == "open"
    finally:
        events.publish_breaker.close()
        events._drop_producer()
