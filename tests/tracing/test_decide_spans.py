"""POST /v1/mmm/decide traced (FR-15): one ``mmm.decision`` span under the request's, one span per
step of the flow beneath it in order, the FR-15 attributes, and no payload, title or body."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from opentelemetry.trace import SpanKind, StatusCode

from decisions.models import Decision
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.tracing.conftest import by_name, parent_of

pytestmark = pytest.mark.django_db

STEPS = [
    "mmm.signal",
    "mmm.context",
    "mmm.playbook_evaluation",
    "mmm.llm_safety",
    "mmm.policy_gate",
    "mmm.preference_fatigue_gates",
    "mmm.delivery",
    "mmm.receipt",
]
PAYLOAD_MARKER = "payload-value-never-in-a-span"
TITLE_MARKER = "Title never in a span"


@pytest.fixture
def tenant():
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    document = mirror_playbook()
    document["actions"][0]["title"] = TITLE_MARKER
    return publish_playbook(document)


def _decide(client, signal_id: str = "trace-1"):
    body = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "payload": {"note": PAYLOAD_MARKER},
        },
    }
    return client.post("/v1/mmm/decide", body, format="json")


def test_decide_has_one_decision_span_with_a_child_per_step(spans, tenant, client_for):
    # given a tenant with one Mirror playbook
    client = client_for(tenant_id="tenant-a", actor_id="actor-1")
    # when a decide request is made
    response = _decide(client)
    assert response.status_code == 200, response.content
    decision_id = response.json()["decision"]["decision_id"]
    finished = spans.get_finished_spans()
    named = by_name(spans)
    # then the decision span hangs under the request's server span, in the same trace
    decision = named["mmm.decision"]
    server = parent_of(decision, finished)
    assert server is not None and server.kind == SpanKind.SERVER
    assert server.attributes.get("http.route", "").endswith("v1/mmm/decide")
    # and each step is its child, started in the flow's order
    children = [s for s in finished if parent_of(s, finished) is decision]
    steps = sorted((s for s in children if s.name.startswith("mmm.")), key=lambda s: s.start_time)
    assert [s.name for s in steps] == STEPS
    trace = [s for s in finished if s.context.trace_id == server.context.trace_id]
    assert {s.name for s in finished if s.name.startswith("mmm.")} <= {s.name for s in trace}
    if connection.vendor == "postgresql":  # psycopg's statements are spans of the same trace
        assert any(s.attributes.get("db.system") == "postgresql" for s in trace)
    # and the decision span carries the FR-15 attributes
    stored = Decision.objects.get(pk=decision_id)
    attributes = dict(decision.attributes)
    assert attributes["tenant_id"] == "tenant-a"
    assert attributes["actor_id"] == "actor-1"
    assert attributes["decision_id"] == decision_id
    assert list(attributes["playbook_ids"]) == [p["playbook_id"] for p in stored.playbooks_fired]
    assert attributes["action_count"] == stored.actions.count() == 1
    assert attributes["latency_ms"] == pytest.approx(stored.latency_ms)
    assert attributes["degraded_mode"] is False
    assert decision.status.status_code != StatusCode.ERROR
    # and no span anywhere carries the payload or the action's text
    dumped = json.dumps([(s.name, dict(s.attributes)) for s in trace], default=str)
    assert PAYLOAD_MARKER not in dumped and TITLE_MARKER not in dumped


def test_a_replayed_signal_is_a_decision_span_naming_the_first_decision(spans, tenant, client_for):
    client = client_for(tenant_id="tenant-a", actor_id="actor-1")
    first = _decide(client).json()["decision"]["decision_id"]
    spans.clear()
    # when the same signal is decided again
    assert _decide(client).status_code == 200
    # then its decision span names the first decision, and no step after the signal ran
    named = by_name(spans)
    assert named["mmm.decision"].attributes["decision_id"] == first
    assert named["mmm.decision"].attributes["mmm.replayed"] is True
    assert "mmm.context" not in named


def test_a_refused_decision_marks_its_span_with_the_error_class_only(spans, tenant, client_for):
    client = client_for(tenant_id="tenant-a", actor_id="actor-1")
    # when the body names another tenant (403)
    body = {"tenant_id": "tenant-b", "signal": {"source": "github", "event_type": "ci.x"}}
    assert client.post("/v1/mmm/decide", body, format="json").status_code == 403
    # then the decision span is an error naming the exception's class, not its message
    decision = by_name(spans)["mmm.decision"]
    assert decision.status.status_code == StatusCode.ERROR
    assert decision.attributes["error.type"] == "ApplicationError"
    assert decision.events == ()
