"""Less like this (issue 15): feedback stored as outcomes with receipts, muting on the next decide."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from decisions.models import Decision, Outcome
from receipts.models import Receipt
from receipts.services import receipt_document
from receipts.signing import verify_document
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.receipts.test_receipts import VALIDATOR

pytestmark = pytest.mark.django_db


def _decide(client, signal_id, event_type="ci.check_run.failed"):
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main", "repo_id": f"org/{signal_id}"},  # another repo: no cool-down
        "signal": {"signal_id": signal_id, "source": "github", "event_type": event_type},
    }
    return client.post("/v1/mmm/decide", body, format="json").json()["decision"]


@pytest.fixture
def setup(client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    ci = publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    deploy = publish_playbook(
        {"name": "deploy", "triggers": [{"event_type": "deploy.*"}], "actions": [MIRROR]}
    )
    return client_for(actor_id="actor-1"), ci, deploy


def _feedback(client, action_id, **body):
    return client.post(f"/v1/mmm/actions/{action_id}/feedback", body, format="json")


def _count(result):
    return REGISTRY.get_sample_value("mmm_outcomes_total", {"tenant_id": "tenant-a", "result": result}) or 0


def test_less_like_this_mutes_the_playbook_for_the_actor_on_the_next_decide(setup, client_for):
    client, ci, _ = setup
    action_id = _decide(client, "s1")["actions"][0]["action_id"]
    before = _count("less_like_this")
    # when the actor says less like this
    response = _feedback(client, action_id, feedback="less_like_this", duration_days=7)
    # then an outcome with its receipt is stored, and the mute shows in the preferences
    assert response.status_code == 201
    body = response.json()
    outcome = Outcome.objects.get(pk=body["outcome_id"])
    assert (outcome.result, outcome.actor_id, str(outcome.action_id)) == (
        "less_like_this",
        "actor-1",
        action_id,
    )
    receipt = Receipt.objects.get(pk=body["receipt_id"])
    assert (receipt.kind, receipt.payload["result"]) == ("outcome", "less_like_this")
    VALIDATOR.validate(receipt_document(receipt))
    assert verify_document(receipt_document(receipt)).valid
    assert receipt.payload["actor_id"] != "actor-1"  # a pseudonym
    assert body["muted_playbook_id"] == str(ci.id)
    prefs = client.get("/v1/mmm/actors/actor-1/preferences").json()
    assert [m["playbook_id"] for m in prefs["muted_playbooks"]] == [str(ci.id)]
    assert _count("less_like_this") == before + 1
    # the muted playbook's action is suppressed next time, with the reason code; others still fire
    muted = _decide(client, "s2")
    assert muted["actions"] == []
    reasons = [r["reason"] for r in Decision.objects.get(pk=muted["decision_id"]).suppressed_actions]
    assert reasons == ["actor.muted_playbook"]
    assert len(_decide(client, "s3", event_type="deploy.failed")["actions"]) == 1
    # another actor is not muted
    assert len(_decide(client_for(actor_id="dev-2"), "s4")["actions"]) == 1
    # the actor can lift the mute through the preferences
    lifted = client.put("/v1/mmm/actors/actor-1/preferences", {"muted_playbooks": []}, format="json")
    assert lifted.json()["muted_playbooks"] == []
    assert len(_decide(client, "s5")["actions"]) == 1


def test_less_like_this_for_the_action_type_opts_out(setup):
    client, _, _ = setup
    action_id = _decide(client, "s1")["actions"][0]["action_id"]
    response = _feedback(client, action_id, feedback="less_like_this", scope="action_type")
    assert (response.status_code, response.json()["opted_out_type"]) == (201, "mirror")
    assert client.get("/v1/mmm/actors/actor-1/preferences").json()["opt_out_categories"] == ["mirror"]
    assert _decide(client, "s2", event_type="deploy.failed")["actions"] == []


@pytest.mark.parametrize("feedback", ["not_relevant", "helpful"])
def test_other_feedback_is_an_outcome_and_changes_no_preference(setup, feedback):
    client, _, _ = setup
    action_id = _decide(client, "s1")["actions"][0]["action_id"]
    response = _feedback(client, action_id, feedback=feedback)
    assert response.status_code == 201
    assert Outcome.objects.get(pk=response.json()["outcome_id"]).result == feedback
    prefs = client.get("/v1/mmm/actors/actor-1/preferences").json()
    assert (prefs["muted_playbooks"], prefs["opt_out_categories"]) == ([], [])
    assert len(_decide(client, "s2")["actions"]) == 1


def test_feedback_is_the_actors_own_and_404_for_other_tenants(setup, client_for):
    client, _, _ = setup
    action_id = _decide(client, "s1")["actions"][0]["action_id"]
    for other in (
        client_for(actor_id="dev-2"),
        client_for(actor_id="lead", roles=["tenant_admin"]),
        client_for(actor_id="edge", scopes=["mmm.outcome", "mmm.outcome.any"]),
    ):
        refused = _feedback(other, action_id, feedback="helpful")
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
    hidden = _feedback(client_for(tenant_id="tenant-b", actor_id="actor-1"), action_id, feedback="helpful")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "NOT_FOUND")
    bad = _feedback(client, action_id, feedback="meh")
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["feedback"])
    assert Outcome.objects.count() == 0


@pytest.mark.parametrize("playbook_id", [False, 0, "not-a-uuid", None])
def test_muted_playbooks_in_preferences_take_uuids_only(client_for, playbook_id):
    client = client_for(actor_id="actor-1")
    body = {"muted_playbooks": [{"playbook_id": playbook_id, "until": "2030-01-01T00:00:00Z"}]}
    response = client.put("/v1/mmm/actors/actor-1/preferences", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["muted_playbooks[0].playbook_id"]
