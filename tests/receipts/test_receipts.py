"""Receipt composition, signing and verification (FR-12, NFR-4, UT-MMM-05)."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.core.management import CommandError, call_command

from decisions.models import Decision
from receipts.models import Receipt, ReceiptKey
from receipts.pseudonyms import actor_pseudonym
from receipts.services import admin_receipt_create, receipt_document
from receipts.signing import _signer, verify_document
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "receipts" / "schema" / "receipt.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
ERIS_FIELDS = {
    "receipt_id",
    "gate_id",
    "schema_version",
    "policy_version_ids",
    "snapshot_hash",
    "timestamp_utc",
    "timestamp_monotonic_ms",
    "evaluation_point",
    "inputs",
    "decision_status",
    "decision_rationale",
    "decision_badges",
    "result",
    "actor_repo_id",
    "actor_machine_fingerprint",
    "actor_type",
    "evidence_handles",
    "degraded",
    "signature",
}
ENGINE_FIELDS = {
    "tenant_id",
    "decision_id",
    "playbooks",
    "proposed_actions",
    "suppressed_actions",
    "llm_safety",
    "risk_score",
    "risk_flags",
    "safety_checks_passed",
}


@pytest.fixture
def decision(client_for):
    """A decision with a Mirror, a Mentor and a dual-channel Multiplier, and one suppressed action."""
    TenantPolicyFactory(
        tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, max_actions_per_decision=3
    )
    extra = {**MIRROR, "title": "extra", "priority": 0.1}  # ranked last: dropped by the cap of 3
    tagged = {**MULTIPLIER, "tags": ["production_change"]}
    publish_playbook(
        {"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR, tagged, extra]}
    )
    body = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {
            "signal_id": "s1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "payload": {"sender": {"email": "dev@example.com"}},
        },
    }
    response = client_for().post("/v1/mmm/decide", body, format="json")
    return Decision.objects.get(pk=response.json()["decision"]["decision_id"])


def _decision_receipt(decision) -> Receipt:
    return Receipt.objects.get(decision_id=decision.id, kind="decision")


def test_ut_mmm_05_decision_receipt_composition(decision):
    receipt = _decision_receipt(decision)
    document = receipt_document(receipt)
    # every ERIS field and the engine's own
    assert ERIS_FIELDS | ENGINE_FIELDS <= set(document)
    VALIDATOR.validate(document)
    assert verify_document(document).valid
    # and the content matches the decision
    assert document["gate_id"] == "mmm" and document["kind"] == "decision"
    assert document["decision_id"] == str(decision.id)
    assert document["tenant_id"] == "tenant-a"
    assert document["policy_version_ids"] == [decision.policy_snapshot_id]
    assert document["playbooks"] == decision.playbooks_fired
    assert [(a["type"], a["surfaces"]) for a in document["proposed_actions"]] == [
        (a.type, a.surfaces) for a in decision.actions.all()
    ]
    assert document["suppressed_actions"] == [
        {
            "type": "mirror",
            "playbook_id": document["playbooks"][0]["playbook_id"],
            "playbook_version": 1,
            "reason": "fatigue.cap_per_decision",
        }
    ]
    assert document["inputs"]["signal_id"] == "s1"
    assert document["actor_repo_id"] == "org/app"
    assert document["risk_flags"] == ["multiplier_proposed", "dual_channel_required", "high_severity_signal"]
    assert 0.8 <= document["risk_score"] <= 1.0
    assert document["safety_checks_passed"] is True
    assert receipt.status == "local"  # no ERIS configured
    assert "dev@example.com" not in json.dumps(document)


def test_every_signal_field_is_out_of_receipts_except_metadata(decision):
    text = json.dumps(receipt_document(_decision_receipt(decision)))
    assert "payload" not in text and "sender" not in text


@pytest.mark.parametrize(
    "field",
    sorted((ERIS_FIELDS | ENGINE_FIELDS | {"kind", "actor_id", "policy_snapshot_id"}) - {"signature"}),
)
def test_changing_any_single_field_fails_verification(decision, field):
    document = receipt_document(_decision_receipt(decision))
    tampered = copy.deepcopy(document)
    value = tampered[field]
    if isinstance(value, bool):
        tampered[field] = not value
    elif isinstance(value, int | float):
        tampered[field] = value + 1
    elif isinstance(value, str):
        tampered[field] = value + "x"
    elif isinstance(value, list):
        tampered[field] = [*value, "extra"] if not value or not isinstance(value[0], dict) else value[:-1]
    elif isinstance(value, dict):
        tampered[field] = {**value, "extra": 1}
    else:  # None
        tampered[field] = "added"
    assert tampered != document
    result = verify_document(tampered)
    assert not result.valid
    assert result.reason == "signature does not match the receipt"


def test_signature_object_problems_are_reported(decision):
    document = receipt_document(_decision_receipt(decision))
    assert verify_document({**document, "signature": {**document["signature"], "kid": "nope"}}).reason == (
        "unknown key id"
    )
    assert not verify_document(
        {**document, "signature": {**document["signature"], "algorithm": "RS256"}}
    ).valid
    assert (
        verify_document({k: v for k, v in document.items() if k != "signature"}).reason
        == "no signature object"
    )


def test_rotated_out_key_still_verifies(settings, client_for):
    # given receipts signed with key A
    settings.RECEIPT_SIGNING_KEY = base64.b64encode(b"A" * 32).decode()
    publish_playbook({"name": "p", "triggers": [{"event_type": "x"}], "actions": [MIRROR]})
    signed_by_a = list(Receipt.objects.all())
    old = signed_by_a[0]
    # when the signing key rotates to B
    settings.RECEIPT_SIGNING_KEY = base64.b64encode(b"B" * 32).decode()
    publish_playbook({"name": "q", "triggers": [{"event_type": "x"}], "actions": [MIRROR]})
    new = Receipt.objects.exclude(pk__in=[r.pk for r in signed_by_a]).first()
    # then both verify, with different key ids, and both keys are published
    assert old.kid != new.kid
    assert {r.kid for r in signed_by_a} == {old.kid}
    assert verify_document(receipt_document(old)).valid
    assert verify_document(receipt_document(new)).valid
    jwks = client_for().get("/v1/mmm/receipts/keys").json()
    assert {old.kid, new.kid} <= {key["kid"] for key in jwks["keys"]}
    assert all(key["kty"] == "OKP" and key["crv"] == "Ed25519" for key in jwks["keys"])


def test_keys_endpoint_is_public_and_matches_the_signer(api_client):
    jwks = api_client.get("/v1/mmm/receipts/keys").json()
    signer = _signer("", str(__import__("django.conf").conf.settings.LOCAL_STATE_DIR))
    assert signer.kid in [key["kid"] for key in jwks["keys"]]
    assert ReceiptKey.objects.filter(kid=signer.kid).exists()


def test_verify_endpoint(decision, client_for):
    client = client_for(scopes=["mmm.read"])
    document = receipt_document(_decision_receipt(decision))
    assert client.post("/v1/mmm/receipts/verify", document, format="json").json() == {
        "valid": True,
        "receipt_id": document["receipt_id"],
        "kid": document["signature"]["kid"],
        "reason": "ok",
    }
    document["result"] = "tampered"
    assert client.post("/v1/mmm/receipts/verify", document, format="json").json()["valid"] is False
    not_object = client.post("/v1/mmm/receipts/verify", [1, 2], format="json")
    assert not_object.status_code == 400 and "body" in not_object.json()["error"]["fields"]
    assert (
        client_for(scopes=["mmm.decide"]).post("/v1/mmm/receipts/verify", document, format="json").status_code
        == 403
    )


def test_receipt_list_for_admins_of_the_tenant(decision, client_for):
    admin = client_for(roles=["tenant_admin"])
    listed = admin.get(f"/v1/mmm/receipts?decision_id={decision.id}").json()["receipts"]
    assert [r["receipt"]["kind"] for r in listed] == ["decision"]
    assert listed[0]["status"] == "local"
    assert client_for().get("/v1/mmm/receipts").status_code == 403
    other = client_for(tenant_id="tenant-b", roles=["tenant_admin"]).get(
        f"/v1/mmm/receipts?decision_id={decision.id}"
    )
    assert other.json()["receipts"] == []
    assert admin.get("/v1/mmm/receipts?decision_id=nope").status_code == 400


def test_outcome_receipt_is_written_with_the_outcome_and_omits_free_text(decision, client_for):
    action = decision.actions.first()
    client_for().post(
        f"/v1/mmm/decisions/{decision.id}/outcomes",
        {"action_id": str(action.id), "result": "dismissed", "reason": "Ask Jane Roe"},
        format="json",
    )
    receipt = Receipt.objects.get(kind="outcome")
    document = receipt_document(receipt)
    VALIDATOR.validate(document)
    assert verify_document(document).valid
    assert document["result"] == "dismissed"
    assert document["inputs"] == {
        "action_id": str(action.id),
        "action_type": action.type,
        "reason_provided": True,
    }
    assert "Jane" not in json.dumps(document)


def test_playbook_changes_write_admin_receipts_with_before_and_after():
    from playbooks.services import playbook_deprecate

    playbook = publish_playbook({"name": "p", "triggers": [{"event_type": "x"}], "actions": [MIRROR]})
    playbook_deprecate(playbook=playbook, actor_id="lead-1")
    receipts = [
        receipt_document(r) for r in Receipt.objects.filter(kind="admin_config").order_by("created_at")
    ]
    assert [r["inputs"]["operation"] for r in receipts] == ["create", "publish", "deprecate"]
    create, publish, deprecate = receipts
    assert create["before"] is None and create["after"]["status"] == "draft"
    assert publish["before"]["status"] == "draft" and publish["after"]["status"] == "published"
    assert deprecate["after"]["status"] == "deprecated" and deprecate["actor_id"] == actor_pseudonym(
        tenant_id="tenant-a", actor_id="lead-1"
    )
    for document in receipts:
        VALIDATOR.validate(document)
        assert verify_document(document).valid


def test_admin_receipts_redact_secrets():
    receipt = admin_receipt_create(
        tenant_id="tenant-a",
        actor_id="lead-1",
        resource_type="webhook",
        resource_id="gh-1",
        operation="update",
        before={
            "url": "https://hooks.example/x",
            "webhook_secret": "old-s3cret",
            "auth": {"token": "t0k3n"},
            "llm": {"daily_token_budget": 500, "access_token": "t0k3n", "input_tokens": 3},
        },
        after={
            "url": "https://hooks.example/y",
            "webhook_secret": "new-s3cret",
            "headers": [{"api_key": "k3y"}],
        },
    )
    document = receipt_document(receipt)
    text = json.dumps(document)
    for secret in ("old-s3cret", "new-s3cret", "t0k3n", "k3y"):
        assert secret not in text
    assert document["before"] == {
        "url": "https://hooks.example/x",
        "webhook_secret": "[REDACTED]",
        "auth": {"token": "[REDACTED]"},
        # a token budget or count is a quantity, not a credential
        "llm": {"daily_token_budget": 500, "access_token": "[REDACTED]", "input_tokens": 3},
    }
    assert document["after"]["headers"] == [{"api_key": "[REDACTED]"}]
    assert verify_document(document).valid


def test_deletion_receipt_matches_the_schema():
    from datetime import timedelta

    from django.utils import timezone

    from decisions.retention import retention_purge_batch
    from tests.factories import DecisionFactory

    DecisionFactory(created_at=timezone.now() - timedelta(days=200))
    retention_purge_batch(now=timezone.now(), batch_size=10)
    document = receipt_document(Receipt.objects.get(kind="deletion"))
    VALIDATOR.validate(document)
    assert verify_document(document).valid


def test_verify_receipts_command_reports_tampering(decision):
    out = io.StringIO()
    call_command("verify_receipts", "--tenant", "tenant-a", stdout=out)
    assert "0 invalid" in out.getvalue()
    receipt = _decision_receipt(decision)
    payload = receipt.payload
    payload["risk_score"] = 0.0
    Receipt.objects.filter(pk=receipt.pk).update(payload=payload)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 receipt"):
        call_command("verify_receipts", stdout=out)
    assert f"INVALID {receipt.receipt_id} decision" in out.getvalue()
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("verify_receipts", "--since", "last week")


def test_receipt_rolls_back_with_its_decision(client_for, monkeypatch):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    before = Receipt.objects.count()

    def fail(**kwargs):
        raise RuntimeError("signing device unavailable")

    monkeypatch.setattr("decisions.services.persist.receipt_prepare", fail)
    body = {"tenant_id": "tenant-a", "signal": {"source": "github", "event_type": "ci.check_run.failed"}}
    assert client_for().post("/v1/mmm/decide", body, format="json").status_code == 500
    assert Decision.objects.count() == 0
    assert Receipt.objects.count() == before
