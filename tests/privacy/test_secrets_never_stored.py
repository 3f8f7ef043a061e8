"""Credentials never stored (NFR-3): each detector kind is redacted in a stored signal and absent
from logs and receipts; outcome reasons and playbook texts too; e-mail actor ids are refused."""

from __future__ import annotations

import json
import logging

import pytest

from decisions.models import Outcome, Signal
from mmm_project.privacy.secret_scan import redact_text
from receipts.models import Receipt
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

SECRETS = {
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "github_token": "ghp_" + "a1B2c3D4e5" * 3 + "abcdef",
    "gitlab_token": "glpat-" + "x1y2z3" * 4,
    "slack_token": "xoxb-123456789012-1234567890123-" + "q" * 24,
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
    "-----END RSA PRIVATE KEY-----",
    "password": "password=hunter2hunter2",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_kind_is_found_and_replaced(kind):
    text, found = redact_text(f"before {SECRETS[kind]} after")
    assert dict(found) == {kind: 1}
    assert f"[REDACTED:{kind}]" in text and text.startswith("before ") and text.endswith(" after")
    assert SECRETS[kind].split("=")[-1] not in text


def test_secrets_in_a_signal_never_reach_the_database_logs_or_receipts(client_for, caplog):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    producer = client_for(actor_id="svc", actor_type="ai_agent", scopes=["mmm.decide"])
    # Each secret in a payload field that is stored (decisions.intake.minimise allow-list).
    fields = ("summary", "check_name", "workflow", "job", "test_id", "rule_id", "status")
    payload = {field: f"leaked: {SECRETS[kind]}" for field, kind in zip(fields, sorted(SECRETS), strict=True)}
    envelope = {
        "signal_id": "leak-1",
        "tenant_id": "tenant-a",
        "actor_id": "dev-1",
        "source": "ci",
        "event_type": "ci.check_run.failed",
        "ts": "2026-11-21T12:00:00Z",
        "payload": payload,
    }
    with caplog.at_level(logging.DEBUG):
        response = after_commit(
            producer.post, "/v1/mmm/signals", data=json.dumps(envelope), content_type="application/json"
        )
    assert response.status_code == 202
    stored = json.dumps(Signal.objects.get(signal_id="leak-1").payload)
    everything = stored + json.dumps([r.payload for r in Receipt.objects.all()]) + caplog.text
    for kind, value in SECRETS.items():
        assert f"[REDACTED:{kind}]" in stored
        assert value.split("=")[-1].splitlines()[-1] not in everything


def test_outcome_reasons_are_scanned_too(client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    actor = client_for(actor_id="dev-1")
    body = {"tenant_id": "tenant-a", "signal": {"signal_id": "o-1", "source": "github", "event_type": "ci.x"}}
    decision = actor.post("/v1/mmm/decide", body, format="json").json()["decision"]
    reason = f"used {SECRETS['aws_access_key']} to rerun"
    actor.post(
        f"/v1/mmm/decisions/{decision['decision_id']}/outcomes",
        {"action_id": decision["actions"][0]["action_id"], "result": "dismissed", "reason": reason},
        format="json",
    )
    assert Outcome.objects.get().reason == "used [REDACTED:aws_access_key] to rerun"


def test_e_mail_actor_ids_are_refused_naming_the_field(client_for):
    producer = client_for(actor_id="svc", actor_type="ai_agent", scopes=["mmm.decide"])
    envelope = {
        "signal_id": "e-1",
        "tenant_id": "tenant-a",
        "actor_id": "jane.doe@example.com",
        "source": "ci",
        "event_type": "ci.x",
        "ts": "2026-11-21T12:00:00Z",
    }
    refused = producer.post("/v1/mmm/signals", envelope, format="json")
    assert refused.status_code == 400 and "[0].actor_id" in json.dumps(refused.json()["error"]["fields"])
    decide = client_for(actor_id="svc").post(
        "/v1/mmm/decide",
        {
            "tenant_id": "tenant-a",
            "actor_id": "jane@example.org",
            "signal": {"source": "ci", "event_type": "ci.x"},
        },
        format="json",
    )
    assert decide.status_code == 400 and list(decide.json()["error"]["fields"]) == ["actor_id"]
    as_token = client_for(actor_id="jane@example.org").post(
        "/v1/mmm/decide",
        {"tenant_id": "tenant-a", "signal": {"source": "ci", "event_type": "ci.x"}},
        format="json",
    )
    assert as_token.status_code == 400 and list(as_token.json()["error"]["fields"]) == ["actor_id"]
    assert not Signal.objects.exists()
