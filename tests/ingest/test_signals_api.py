"""POST /v1/mmm/signals (FR-1 envelopes, CloudEvents) and the webhook endpoint admin API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decisions.intake.services import signals_sweep
from decisions.models import RejectedSignal, Signal, WebhookEndpoint
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "real-input" / "cloudevents"


def envelope(**overrides):
    body = {
        "signal_id": "s-1",
        "tenant_id": "tenant-a",
        "actor_id": "dev-1",
        "source": "ubi",
        "event_type": "ubi.focus.interrupted",
        "severity": "low",
        "ts": "2026-03-04T12:00:00Z",
        "payload": {"minutes": 12},
        "context": {"repo_id": "org/app", "branch": "main"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def producer(client_for):
    return client_for(actor_id="ubi-service", actor_type="ai_agent", scopes=["mmm.decide"])


def _post(client, body, content_type="application/json"):
    data = json.dumps(body) if not isinstance(body, bytes | str) else body
    return after_commit(client.post, "/v1/mmm/signals", data=data, content_type=content_type)


def test_one_envelope_is_stored_and_decided(producer):
    response = _post(producer, envelope())
    assert response.status_code == 202
    assert response.json() == {"accepted": ["s-1"], "duplicates": []}
    signal = Signal.objects.get()
    assert (signal.status, signal.actor_id, signal.context) == (
        "decided",
        "dev-1",
        {"repo_id": "org/app", "branch": "main"},
    )


def test_batch_with_a_replayed_id(producer):
    _post(producer, envelope())
    response = _post(producer, [envelope(), envelope(signal_id="s-2")])
    assert response.json() == {"accepted": ["s-2"], "duplicates": ["s-1"]}
    assert Signal.objects.count() == 2


def test_one_bad_item_refuses_the_whole_batch_naming_it(producer):
    response = _post(producer, [envelope(), envelope(signal_id="s-2", ts="yesterday", colour="red")])
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"[1].ts", "[1].colour"}
    assert not Signal.objects.exists()


def test_foreign_tenant_is_refused(producer):
    response = _post(producer, [envelope(), envelope(signal_id="s-2", tenant_id="tenant-b")])
    assert response.status_code == 403
    assert list(response.json()["error"]["fields"]) == ["[1].tenant_id"]
    assert not Signal.objects.exists()


def test_batch_limit_and_shapes(producer):
    assert _post(producer, [envelope(signal_id=f"s{i}") for i in range(101)]).status_code == 400
    assert _post(producer, ["not an object"]).status_code == 400
    assert _post(producer, "{oops").status_code == 400


def test_signals_need_the_decide_scope(client_for):
    assert _post(client_for(scopes=["mmm.read"]), envelope()).status_code == 403


@pytest.mark.parametrize(
    ("name", "content_type", "accepted"),
    [
        ("example-03-json-object-data.json", "application/cloudevents+json", ["C234-1234-1234"]),
        (
            "example-07-batch-two-events.json",
            "application/cloudevents-batch+json",
            ["B234-1234-1234", "C234-1234-1234"],
        ),
        ("example-08-batch-empty.json", "application/cloudevents-batch+json", []),
    ],
)
def test_real_cloudevents_are_accepted(producer, name, content_type, accepted):
    response = _post(producer, (ROOT / name).read_bytes(), content_type)
    assert response.status_code == 202, response.content
    assert sorted(response.json()["accepted"]) == accepted
    for signal in Signal.objects.all():
        assert signal.source.startswith("/mycontext")
        assert signal.event_type.startswith("com.example.some")
        assert signal.tenant_id == "tenant-a" and signal.actor_id == "ubi-service"


def test_cloudevent_extensions_carry_tenant_actor_and_context(producer):
    event = {
        "specversion": "1.0",
        "id": "ce-1",
        "source": "/detection",
        "type": "detection.alert",
        "time": "2026-03-04T12:00:00Z",
        "tenantid": "tenant-a",
        "actorid": "dev-9",
        "severity": "critical",
        "repoid": "org/api",
        "data": {"rule": "x"},
    }
    _post(producer, event, "application/cloudevents+json")
    signal = Signal.objects.get()
    assert (signal.actor_id, signal.severity, signal.context["repo_id"]) == ("dev-9", "critical", "org/api")
    wrong = _post(producer, {**event, "id": "ce-2", "specversion": "0.3"}, "application/cloudevents+json")
    assert wrong.status_code == 400


def test_undecided_signals_are_swept(producer, settings):
    from datetime import timedelta

    from django.utils import timezone

    # stored while the decision could not be queued (no on-commit here): still "received"
    producer.post("/v1/mmm/signals", data=json.dumps(envelope()), content_type="application/json")
    assert Signal.objects.get().status == "received"
    Signal.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    assert signals_sweep() == 1
    assert Signal.objects.get().status == "decided"


def test_a_signal_that_cannot_be_decided_is_marked_failed_not_lost(producer, monkeypatch):
    from decisions.services import decide

    def broken(data, **kwargs):
        raise ValueError("unknown severity")

    monkeypatch.setattr(decide, "evaluate", broken)
    _post(producer, envelope())
    signal = Signal.objects.get()
    assert (signal.status, signal.last_error) == ("failed", "unknown severity")


# --- webhook endpoint admin API ---------------------------------------------------------------------


def test_endpoint_lifecycle_secret_shown_once_never_stored_plain(client_for):
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    created = admin.post(
        "/v1/mmm/webhooks/endpoints",
        {"provider": "github", "name": "org hooks", "routes": ["installation:42", "owner:7"]},
        format="json",
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    endpoint = WebhookEndpoint.objects.get()
    assert secret not in endpoint.secret_encrypted
    listed = admin.get("/v1/mmm/webhooks/endpoints").json()
    assert listed == [
        {
            "endpoint_id": str(endpoint.id),
            "provider": "github",
            "name": "org hooks",
            "active": True,
            "routes": ["installation:42", "owner:7"],
        }
    ]
    assert secret not in json.dumps(listed)
    rotated = admin.post(f"/v1/mmm/webhooks/endpoints/{endpoint.id}/rotate").json()["secret"]
    assert rotated != secret
    assert admin.delete(f"/v1/mmm/webhooks/endpoints/{endpoint.id}").status_code == 204
    for receipt in Receipt.objects.filter(payload__inputs__resource_type="webhook_endpoint"):
        text = json.dumps(receipt_document(receipt))
        assert secret not in text and rotated not in text
    assert [r.payload["inputs"]["operation"] for r in Receipt.objects.order_by("created_at")] == [
        "create",
        "rotate_secret",
        "deactivate",
    ]


def test_alertmanager_token_is_stored_hashed(client_for):
    admin = client_for(roles=["tenant_admin"])
    token = admin.post(
        "/v1/mmm/webhooks/endpoints", {"provider": "alertmanager", "name": "am"}, format="json"
    ).json()["secret"]
    endpoint = WebhookEndpoint.objects.get()
    assert token not in endpoint.token_sha256 and len(endpoint.token_sha256) == 64
    assert endpoint.secret_encrypted == ""


def test_endpoint_validation_and_conflicts(client_for):
    admin = client_for(roles=["tenant_admin"])
    bad = admin.post(
        "/v1/mmm/webhooks/endpoints", {"provider": "github", "name": "x", "routes": ["repo:1"]}, format="json"
    )
    assert bad.status_code == 400 and "routes" in bad.json()["error"]["fields"]
    admin.post(
        "/v1/mmm/webhooks/endpoints",
        {"provider": "github", "name": "a", "routes": ["owner:1"]},
        format="json",
    )
    taken = admin.post(
        "/v1/mmm/webhooks/endpoints",
        {"provider": "github", "name": "a2", "routes": ["owner:1"]},
        format="json",
    )
    assert taken.status_code == 409  # the tenant's own route, registered twice
    # another tenant may register the same key: nothing tells it that tenant-a has it
    other = client_for(tenant_id="tenant-b", roles=["tenant_admin"])
    theirs = other.post(
        "/v1/mmm/webhooks/endpoints",
        {"provider": "github", "name": "b", "routes": ["owner:1"]},
        format="json",
    )
    assert theirs.status_code == 201
    endpoint_id = WebhookEndpoint.objects.get(tenant_id="tenant-a").id
    assert other.delete(f"/v1/mmm/webhooks/endpoints/{endpoint_id}").status_code == 404
    assert client_for().get("/v1/mmm/webhooks/endpoints").status_code == 403


def test_rejections_keep_reason_and_shape_not_content():
    from decisions.intake.services import signal_reject

    record = signal_reject(
        tenant_id="t",
        channel="broker:x",
        reason="invalid envelope",
        message={"email": "dev@example.com", "ts": "x"},
    )
    stored = RejectedSignal.objects.get(pk=record.pk)
    assert stored.message_keys == ["email", "ts"]
    assert "dev@example.com" not in json.dumps([stored.reason, stored.message_keys])
