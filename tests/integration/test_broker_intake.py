"""Broker intake and event streams on real brokers; IT-MMM-01 and IT-MMM-02 through a real worker."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from kombu import Connection, Queue

from decisions.intake.consumer import TOPICS, SignalConsumer, topic_queue
from decisions.models import Action, Decision, Delivery, RejectedSignal, Signal
from mmm_project.events import EXCHANGE
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.integration.helpers import closed_port, service_urls
from tests.peers import FakeAlerting

SERVICES = service_urls()
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(SERVICES is None, reason="DATABASE_URL, REDIS_URL and CELERY_BROKER_URL not set"),
    pytest.mark.django_db(transaction=True),
]


def _redis_broker() -> str:
    return settings.REDIS_URL


def _transport_options(transport: str) -> dict:
    # A Redis broker shared with other runs: this run's keys carry its own prefix (conftest).
    return {"global_keyprefix": os.environ["MMM_TEST_REDIS_PREFIX"]} if transport == "redis" else {}


def envelope(signal_id, **overrides):
    body = {
        "signal_id": signal_id,
        "tenant_id": "tenant-a",
        "actor_id": "dev-1",
        "source": "pm3",
        "event_type": "ci.check_run.failed",
        "severity": "high",
        "ts": "2026-03-04T12:00:00Z",
        "context": {"branch": "main"},
    }
    body.update(overrides)
    return body


def _purge(connection: Connection, topics=TOPICS) -> None:
    for topic in topics:
        queue = topic_queue(topic)(connection.default_channel)
        queue.declare()
        queue.purge()


def _consume(connection: Connection, expected: int, timeout: float = 30.0) -> Counter:
    """Run the consumer in a thread until ``expected`` messages are handled."""
    handled: Counter = Counter()

    def record(topic: str, outcome: str) -> None:
        handled[outcome] += 1
        if sum(handled.values()) >= expected:
            consumer.should_stop = True

    consumer = SignalConsumer(connection, on_handled=record)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    thread.join(timeout)
    consumer.should_stop = True
    thread.join(5)
    return handled


@pytest.fixture
def policy():
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    publish_playbook(
        {
            "name": "ci",
            "triggers": [{"event_type": "ci.*"}, {"event_type": "incident.*"}],
            "actions": [{**MIRROR, "surfaces": ["ide", "alert"]}, {**MENTOR, "surfaces": ["alert"]}],
        }
    )


@pytest.mark.parametrize("transport", ["rabbitmq", "redis"])
def test_consumer_decides_valid_envelopes_and_records_invalid_ones(policy, settings, transport):
    url = settings.CELERY_BROKER_URL if transport == "rabbitmq" else _redis_broker()
    settings.INGEST_UBI_TENANTS = ["tenant-a"]
    with Connection(url, transport_options=_transport_options(transport)) as connection:
        _purge(connection)
        producer = connection.Producer(serializer="json")

        def send(topic, body, **options):
            producer.publish(
                body,
                exchange=topic_queue(topic).exchange,
                routing_key="signal",
                declare=[topic_queue(topic)],
                **options,
            )

        send("pm3.signals.normalized", envelope("pm3-1"))
        send("pm3.signals.normalized", envelope("pm3-bad", actor_id=None, ts="yesterday"))
        send(
            "pm3.signals.normalized",
            b"{not json",
            content_type="application/json",
            content_encoding="utf-8",
            serializer=None,
        )
        send("detection.alerts", envelope("det-low", severity="medium", event_type="incident.firing"))
        send("detection.alerts", envelope("det-critical", severity="critical", event_type="incident.firing"))
        send("ubi.behavioural_signals", envelope("ubi-other", tenant_id="tenant-z"))
        send("pm3.signals.normalized", envelope("pm3-1"))  # redelivered: a duplicate
        handled = _consume(connection, expected=7)
    assert handled == Counter({"accepted": 2, "rejected": 2, "filtered": 2, "duplicate": 1})
    assert set(Signal.objects.values_list("signal_id", flat=True)) == {"pm3-1", "det-critical"}
    assert Decision.objects.count() == 2 and Action.objects.exists()
    reasons = sorted(RejectedSignal.objects.values_list("reason", flat=True))
    assert reasons[0].startswith("invalid envelope") and reasons[1].startswith("undecodable message")
    assert set(RejectedSignal.objects.values_list("channel", flat=True)) == {"broker:pm3.signals.normalized"}
    # nothing is left to loop on
    with Connection(url, transport_options=_transport_options(transport)) as connection:
        for topic in TOPICS:
            assert topic_queue(topic)(connection.default_channel).get(no_ack=True) is None


def test_decisions_outcomes_and_admin_changes_are_published(policy, settings, client_for):
    settings.EVENTS_BROKER_URL = settings.CELERY_BROKER_URL
    with Connection(settings.EVENTS_BROKER_URL) as connection:
        queue = Queue("mmm-test-events", EXCHANGE, routing_key="mmm.#", durable=False, auto_delete=True)
        bound = queue(connection.default_channel)
        bound.declare()
        bound.purge()
        body = {
            "tenant_id": "tenant-a",
            "context": {"branch": "main"},
            "signal": {"signal_id": "ev-1", "source": "github", "event_type": "ci.check_run.failed"},
        }
        client = client_for()
        decision = client.post("/v1/mmm/decide", body, format="json").json()["decision"]
        action_id = decision["actions"][0]["action_id"]
        client.post(
            f"/v1/mmm/decisions/{decision['decision_id']}/outcomes",
            {"action_id": action_id, "result": "shown"},
            format="json",
        )
        events = []
        deadline = time.monotonic() + 10
        while len(events) < 2 and time.monotonic() < deadline:
            message = bound.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            events.append((message.delivery_info["routing_key"], json.loads(message.body)))
    topics = [topic for topic, _ in events]
    assert topics == ["mmm.decisions", "mmm.outcomes"]
    decided = events[0][1]
    assert set(decided) == {"event_id", "tenant_id", "timestamp_utc", "event_type", "payload"}
    assert decided["event_type"] == "decision.created"
    assert decided["payload"]["decision_id"] == decision["decision_id"]
    assert "dev-1" not in json.dumps(decided) and "actor-1" not in json.dumps(decided)
    assert events[1][1]["payload"]["result"] == "shown"


def test_a_broker_down_never_fails_or_slows_the_request(policy, settings, client_for):
    settings.EVENTS_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    client = client_for()
    timings = []
    for i in range(3):
        body = {
            "tenant_id": "tenant-a",
            "signal": {"signal_id": f"down-{i}", "source": "x", "event_type": "ci.x"},
        }
        started = time.perf_counter()
        assert client.post("/v1/mmm/decide", body, format="json").status_code == 200
        timings.append(time.perf_counter() - started)
    assert max(timings) < 1.0, timings


def _worker(worker_app):
    return start_worker(
        worker_app,
        pool="solo",
        queues=["default", "ingest", "receipts", "delivery"],
        perform_ping_check=False,
        shutdown_timeout=30,
    )


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_it_mmm_01_ubi_to_mmm_to_ide(settings, client_for, worker_app, through_the_broker):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    # a nudge that fires when the IDE asks while UBI has seen the developer's focus broken
    publish_playbook(
        {
            "name": "focus",
            "triggers": [{"event_type": "ide.*"}],
            "conditions": ['recent_signals.exists(s, s.event_type == "ubi.focus.interrupted")'],
            "actions": [
                {**MIRROR, "title": "Several interruptions this morning", "body": "Focus time was split."}
            ],
        }
    )
    with Connection(settings.CELERY_BROKER_URL) as connection, _worker(worker_app):
        _purge(connection, ["ubi.behavioural_signals"])
        # UBI emits a behavioural signal on its topic
        connection.Producer(serializer="json").publish(
            envelope(
                "ubi-1", source="ubi", event_type="ubi.focus.interrupted", severity="low", actor_id="actor-1"
            ),
            exchange=topic_queue("ubi.behavioural_signals").exchange,
            routing_key="signal",
            declare=[topic_queue("ubi.behavioural_signals")],
        )
        assert _consume(connection, expected=1) == Counter({"accepted": 1})
        # the worker decides on it through RabbitMQ
        assert _wait(lambda: Signal.objects.filter(signal_id="ubi-1", status="decided").exists())
        # the Edge Agent asks for a decision with the IDE context
        edge = client_for(actor_id="actor-1")
        body = {
            "tenant_id": "tenant-a",
            "context": {"repo_id": "org/app", "branch": "main", "surface": "ide"},
            "signal": {"signal_id": "ide-1", "source": "edge_agent", "event_type": "ide.pre_commit"},
        }
        decision = edge.post("/v1/mmm/decide", body, format="json").json()["decision"]
        assert [a["payload"]["title"] for a in decision["actions"]] == ["Several interruptions this morning"]
        # shown in the IDE, outcome posted, receipts written
        nudges = edge.get("/v1/mmm/actors/actor-1/nudges?surface=ide").json()["nudges"]
        assert [n["action_id"] for n in nudges] == [decision["actions"][0]["action_id"]]
        shown = edge.post(
            f"/v1/mmm/decisions/{decision['decision_id']}/outcomes",
            {"action_id": nudges[0]["action_id"], "result": "shown"},
            format="json",
        )
        assert shown.status_code == 202
        assert edge.get("/v1/mmm/actors/actor-1/nudges?surface=ide").json()["nudges"] == []
    kinds = Counter(Receipt.objects.values_list("kind", flat=True))
    assert kinds["decision"] == 2 and kinds["outcome"] == 1


def test_it_mmm_02_detection_to_mmm_to_alerting(policy, settings, worker_app, through_the_broker, httpserver):
    alerting = FakeAlerting()
    settings.ALERTING_URL = alerting.install(httpserver)
    with Connection(settings.CELERY_BROKER_URL) as connection, _worker(worker_app):
        _purge(connection, ["detection.alerts"])
        connection.Producer(serializer="json").publish(
            envelope(
                "risk-1",
                source="detection",
                event_type="incident.firing",
                severity="critical",
                context={"environment": "prod", "repo_id": "org/payments"},
            ),
            exchange=topic_queue("detection.alerts").exchange,
            routing_key="alert",
            declare=[topic_queue("detection.alerts")],
        )
        assert _consume(connection, expected=1) == Counter({"accepted": 1})
        assert _wait(lambda: Signal.objects.filter(signal_id="risk-1", status="decided").exists())
        # the worker delivers both alert-surface actions to the Alerting service
        assert _wait(lambda: len(alerting.notifications) == 2)
    decision = Decision.objects.get(signal__signal_id="risk-1")
    assert {n["action_type"] for n in alerting.notifications.values()} == {"mirror", "mentor"}
    assert {n["severity"] for n in alerting.notifications.values()} == {"critical"}
    assert set(Delivery.objects.filter(surface="alert").values_list("status", flat=True)) == {"sent"}
    actions = list(decision.actions.all())
    assert {a.type for a in actions} == {"mirror", "mentor"}
    for action in actions:
        assert "alert" in action.surfaces
        assert action.surface_payloads["alert"]["notification"]["severity"] == "critical"
    assert actions[0].priority >= actions[-1].priority > 0
