"""Why am I seeing this (issue 15): action and decision explanations, tenant isolation, actor rules."""

from __future__ import annotations

import pytest

from decisions.delivery.models import ActionRevision
from decisions.models import Action, LLMStatus
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

CONDITION = 'context.branch == "main"'


@pytest.fixture
def decided(client_for):
    """actor-1's decision: a Mirror delivered, the Mentor capped (max one action per decision)."""
    TenantPolicyFactory(
        tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, max_actions_per_decision=1
    )
    playbook = publish_playbook(
        {
            "name": "red-main",
            "triggers": [{"event_type": "ci.*"}],
            "conditions": [CONDITION],
            "actions": [MIRROR, MENTOR],
        }
    )
    client = client_for(actor_id="actor-1")
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main", "repo_id": "org/app"},
        "signal": {
            "signal_id": "s1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    decision = client.post("/v1/mmm/decide", body, format="json").json()["decision"]
    assert len(decision["actions"]) == 1
    return client, decision, playbook


def test_action_explanation_names_signal_playbook_conditions_gates_evidence_and_receipt(decided):
    client, decision, playbook = decided
    action_id = decision["actions"][0]["action_id"]
    # when the actor asks why
    response = client.get(f"/v1/mmm/actions/{action_id}/explanation")
    # then every part comes from what was stored
    assert response.status_code == 200
    body = response.json()
    assert body["signal"]["type"] == "ci.check_run.failed"
    assert (body["signal"]["source"], body["signal"]["severity"]) == ("github", "high")
    assert body["signal"]["ts"]
    assert body["playbook"] == {
        "playbook_id": str(playbook.id),
        "name": "red-main",
        "version": 1,
        "text": "The playbook 'red-main' (version 1) has a trigger for this kind of signal and matched.",
        "trigger_count": None,
    }
    assert [(c["expression"], c["held"]) for c in body["conditions"]] == [(CONDITION, True)]
    assert [g["gate"] for g in body["gates"]] == ["policy", "preferences", "quiet_hours", "fatigue"]
    assert all(g["passed"] for g in body["gates"])
    assert "no quiet hours" in body["gates"][2]["text"]
    assert body["evidence_handles"] == ["s1"]
    assert body["experiment"] is None and body["llm"] is None
    assert "'red-main' matched" in body["summary"]
    receipt = Receipt.objects.get(pk=body["receipt_id"])
    assert (receipt.kind, str(receipt.decision_id)) == ("decision", decision["decision_id"])


def test_action_explanation_reports_llm_provenance_where_stored(decided):
    client, decision, _ = decided
    action = Action.objects.get(pk=decision["actions"][0]["action_id"])
    Action.objects.filter(pk=action.pk).update(llm_status=LLMStatus.ENRICHED, llm_prompt="Explain {{x}}")
    ActionRevision.objects.create(
        tenant_id="tenant-a", action=action, payload={}, safety_status="warn", risk_flags=["tone"]
    )
    llm = client.get(f"/v1/mmm/actions/{action.pk}/explanation").json()["llm"]
    assert (llm["status"], llm["safety_verdict"], llm["risk_flags"]) == ("enriched", "warn", ["tone"])
    # no model stored today: null, not an error; the prompt hash is the stored prompt's
    assert llm["model"] is None
    assert llm["prompt_hash"].startswith("sha256:") and len(llm["prompt_hash"]) == 7 + 64
    assert "passed its safety check (warn)" in llm["text"]


def test_decision_explanation_lists_each_suppressed_action_with_code_and_sentence(decided):
    client, decision, playbook = decided
    response = client.get(f"/v1/mmm/decisions/{decision['decision_id']}/explanation")
    assert response.status_code == 200
    body = response.json()
    assert [a["action_id"] for a in body["delivered"]] == [decision["actions"][0]["action_id"]]
    assert body["suppressed"] == [
        {
            "type": "mentor",
            "playbook_id": str(playbook.id),
            "playbook_name": "red-main",
            "playbook_version": 1,
            "action_index": 1,
            "reason_code": "fatigue.cap_per_decision",
            "text": "More actions were proposed than one decision may deliver; this one ranked lower.",
        }
    ]


def test_explanations_are_for_the_actor_or_an_admin_and_404_for_other_tenants(decided, client_for):
    _, decision, _ = decided
    urls = [
        f"/v1/mmm/actions/{decision['actions'][0]['action_id']}/explanation",
        f"/v1/mmm/decisions/{decision['decision_id']}/explanation",
    ]
    colleague = client_for(actor_id="dev-2")
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    stranger = client_for(tenant_id="tenant-b", actor_id="actor-1", roles=["tenant_admin"])
    for url in urls:
        refused = colleague.get(url)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
        assert admin.get(url).status_code == 200
        hidden = stranger.get(url)
        assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert colleague.get("/v1/mmm/actions/not-a-uuid/explanation").status_code == 404
