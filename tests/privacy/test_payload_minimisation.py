"""PR-MMM-01 / NFR-3 on what is stored: a signal row keeps only its source's allow-listed payload
fields (``decisions.intake.minimise``); the sender's e-mail and name, a diff, nested objects and
unknown keys never reach the database, whichever way the signal came in."""

from __future__ import annotations

import json

import pytest

from decisions.intake.minimise import MAX_VALUE_CHARS, payload_minimise
from decisions.models import Signal
from mmm_project import metrics
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit
from tests.privacy.stored import rows_naming

pytestmark = pytest.mark.django_db

LEAKY = {
    "sender": {"email": "jane.doe@example.com", "name": "Jane Doe"},
    "author_name": "Jane Doe",
    "diff": "-password=hunter2hunter2\n+password=correcthorse",
    "files": ["src/secret.py"],
    "check_name": "lint",
    "conclusion": "failure",
    "attempt": 2,
    "summary": "flaky since jane.doe@example.com changed it",
}
KEPT = {
    "check_name": "lint",
    "conclusion": "failure",
    "attempt": 2,
    "summary": "flaky since [REDACTED:email] changed it",
}
NEVER_STORED = ("jane.doe@example.com", "Jane Doe", "hunter2", "correcthorse", "src/secret.py")


@pytest.fixture
def tenant():
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})


def test_a_decide_stores_only_the_allow_listed_payload_fields(tenant, client_for):
    actor = client_for(actor_id="dev-1")
    body = {
        "tenant_id": "tenant-a",
        "signal": {
            "signal_id": "min-1",
            "source": "ci",
            "event_type": "ci.check_run.failed",
            "payload": LEAKY,
        },
    }
    response = actor.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["decision"]["actions"], "the decision was really made"
    assert Signal.objects.get(signal_id="min-1").payload == KEPT
    assert rows_naming("min-1")["mmm_signals"] == 1  # the check reads the rows that were written
    for value in NEVER_STORED:
        assert rows_naming(value) == {}, value


def test_an_ingested_signal_stores_only_the_allow_listed_payload_fields(tenant, client_for):
    producer = client_for(actor_id="svc", actor_type="ai_agent", scopes=["mmm.decide"])
    envelope = {
        "signal_id": "min-2",
        "tenant_id": "tenant-a",
        "actor_id": "dev-1",
        "source": "ci",
        "event_type": "ci.check_run.failed",
        "ts": "2026-11-21T12:00:00Z",
        "payload": LEAKY,
    }
    response = after_commit(
        producer.post, "/v1/mmm/signals", data=json.dumps(envelope), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    assert Signal.objects.get(signal_id="min-2").payload == KEPT
    for value in NEVER_STORED:
        assert rows_naming(value) == {}, value


def test_a_cloudevent_keeps_only_allow_listed_data_fields(tenant, client_for):
    producer = client_for(actor_id="svc", actor_type="ai_agent", scopes=["mmm.decide"])
    event = {
        "specversion": "1.0",
        "id": "ce-min",
        "source": "/ci",
        "type": "ci.check_run.failed",
        "time": "2026-11-21T12:00:00Z",
        "actorid": "dev-1",
        "data": {**LEAKY, "appinfoA": "abc"},
    }
    response = after_commit(
        producer.post, "/v1/mmm/signals", data=json.dumps(event), content_type="application/cloudevents+json"
    )
    assert response.status_code == 202, response.content
    assert Signal.objects.get(signal_id="ce-min").payload == KEPT


def test_dropped_fields_are_counted_by_source_only():
    before = metrics.SIGNAL_PAYLOAD_FIELDS_DROPPED.labels("github")._value.get()
    kept = payload_minimise(
        {"github_event": "check_run", "action": "completed", "sender": {"id": 1}}, source="github"
    )
    assert kept == {"github_event": "check_run", "action": "completed"}
    assert metrics.SIGNAL_PAYLOAD_FIELDS_DROPPED.labels("github")._value.get() == before + 1


@pytest.mark.parametrize(
    ("payload", "source", "expected"),
    [
        (None, "ci", {}),
        (["a list"], "ci", {}),
        ({"data_base64": "aGVsbG8="}, "/ci", {}),
        (
            {"receiver": "team-x", "alertname": "HighLatency"},
            "alertmanager",
            {"receiver": "team-x", "alertname": "HighLatency"},
        ),
        ({"receiver": "team-x"}, "ci", {}),  # an adapter's field is kept for its own source only
        (
            {"count": 3, "duration_ms": 12.5, "status": None, "kind": True},
            "ci",
            {"count": 3, "duration_ms": 12.5, "status": None, "kind": True},
        ),
        ({"summary": "x" * 2000}, "ci", {"summary": "x" * MAX_VALUE_CHARS}),
        ({"summary": "token AKIAIOSFODNN7EXAMPLE"}, "ci", {"summary": "token [REDACTED:aws_access_key]"}),
        ({"check_name": {"nested": "object"}}, "ci", {}),
    ],
)
def test_payload_minimise(payload, source, expected):
    assert payload_minimise(payload, source=source) == expected
