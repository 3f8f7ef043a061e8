"""Signals traced into their decisions (FR-15, W3C Trace Context): POST /v1/mmm/signals -> the
``ingest.decide`` task -> the decision -> ``receipts.emit`` -> ERIS is one trace, and a broker
message's ``traceparent`` is the parent of its signal's decision. Tasks run eagerly here, as the
suite does; real commits (transactional tests) run each after-commit step where production does."""

from __future__ import annotations

import pytest
from kombu import Connection
from opentelemetry.trace import SpanKind

from decisions.intake.consumer import SignalConsumer, topic_queue
from decisions.models import Decision
from mmm_project.background import outbox, queueing
from receipts.models import Receipt
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.peers import FakeEris
from tests.tracing.conftest import by_name, parent_of

pytestmark = pytest.mark.django_db(transaction=True)


def _eager_outbox(task_name, ids, *, from_request=True, run_eagerly=False):
    # A worker's decision hands its receipt to a worker at once; eager here, the same chain.
    return queueing.enqueue(task_name, ids, from_request=from_request, run_eagerly=True)


def test_a_signal_is_one_trace_from_request_to_eris(spans, peer_server, settings, client_for, monkeypatch):
    # given ERIS (a local server noting each request's traceparent) and a tenant with a playbook
    eris, traceparents = FakeEris(), []

    def handle(request):
        traceparents.append(request.headers.get("traceparent"))
        return eris.handle(request)

    peer_server.expect_request(eris.path, method="POST").respond_with_handler(handle)
    settings.ERIS_URL = peer_server.url_for("/").rstrip("/")
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook(mirror_playbook(event_type="ubi.focus.interrupted"))
    monkeypatch.setattr(outbox, "enqueue", _eager_outbox)
    traceparents.clear()
    spans.clear()
    producer = client_for(actor_id="ubi-service", actor_type="ai_agent", scopes=["mmm.decide"])
    # when a producer posts a signal
    envelope = {
        "signal_id": "s-trace",
        "tenant_id": "tenant-a",
        "actor_id": "dev-1",
        "source": "ubi",
        "event_type": "ubi.focus.interrupted",
        "severity": "low",
        "ts": "2026-03-04T12:00:00Z",
        "payload": {"minutes": 12},
    }
    response = producer.post("/v1/mmm/signals", envelope, format="json")
    assert response.status_code == 202, response.content
    # then request -> ingest.decide_batch -> mmm.decision -> receipts.emit -> the ERIS call is one chain
    finished = spans.get_finished_spans()
    named = by_name(spans)
    decision = named["mmm.decision"]
    task = parent_of(decision, finished)
    assert task is not None and task.name == "run/ingest.decide_batch"
    request = parent_of(task, finished)
    assert request is not None and request.kind == SpanKind.SERVER
    assert request.attributes["http.route"].endswith("v1/mmm/signals")
    emit = named["run/receipts.emit"]
    assert parent_of(emit, finished) is decision
    calls = [s for s in finished if s.name == "POST" and parent_of(s, finished) is emit]
    assert len(calls) == 1 and calls[0].kind == SpanKind.CLIENT
    call = calls[0]
    assert call.attributes.get("http.status_code") == 201
    # and ERIS received that call's W3C traceparent
    trace_id, span_id = f"{request.context.trace_id:032x}", f"{call.context.span_id:016x}"
    assert [value.split("-")[:3] for value in traceparents] == [["00", trace_id, span_id]]
    # and the decision span carries the worker's decision
    stored = Decision.objects.get()
    assert decision.attributes["decision_id"] == str(stored.id)
    assert decision.attributes["actor_id"] == "dev-1"
    assert decision.attributes["action_count"] == 1
    receipt = Receipt.objects.get(decision_id=stored.id, kind="decision")
    assert list(eris.stored) == [str(receipt.receipt_id)]


REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_SPAN = "00f067aa0ba902b7"


def test_a_broker_signal_is_decided_in_its_producers_trace(spans, settings):
    # given a tenant with a playbook, and a producer's message carrying its W3C traceparent
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook(mirror_playbook())
    spans.clear()
    envelope = {
        "signal_id": "pm3-trace",
        "tenant_id": "tenant-a",
        "actor_id": "dev-1",
        "source": "pm3",
        "event_type": "ci.check_run.failed",
        "severity": "high",
        "ts": "2026-03-04T12:00:00Z",
    }
    topic = "pm3.signals.normalized"
    with Connection("memory://") as connection:
        connection.Producer(serializer="json").publish(
            envelope,
            exchange=topic_queue(topic).exchange,
            routing_key="signal",
            declare=[topic_queue(topic)],
            headers={"traceparent": f"00-{REMOTE_TRACE}-{REMOTE_SPAN}-01"},
        )
        # when the intake consumer takes it
        handled = []
        consumer = SignalConsumer(connection, [topic], on_handled=lambda t, outcome: handled.append(outcome))
        for _ in consumer.consume(limit=1, timeout=10):
            pass
    assert handled == ["accepted"]
    # then the intake span continues the producer's span, and the decision hangs beneath it
    finished = spans.get_finished_spans()
    named = by_name(spans)
    intake = named["mmm.intake"]
    assert (intake.parent.trace_id, intake.parent.span_id) == (int(REMOTE_TRACE, 16), int(REMOTE_SPAN, 16))
    assert intake.attributes["messaging.destination.name"] == topic
    task = parent_of(named["mmm.decision"], finished)
    assert task.name == "run/ingest.decide_batch" and parent_of(task, finished) is intake
    assert named["mmm.decision"].attributes["decision_id"] == str(Decision.objects.get().id)
