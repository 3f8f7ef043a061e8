"""Outcomes (spec 11.3) and the IDE's pull of pending nudges."""

from __future__ import annotations

import pytest

from decisions.models import Outcome
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import ActionFactory, TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(client_for):
    """A decision of actor-1 with a Mirror (ide, ci) and a Mentor (ide)."""
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})
    client = client_for(actor_id="actor-1")
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": "s1", "source": "github", "event_type": "ci.check_run.failed"},
    }
    decision = client.post("/v1/mmm/decide", body, format="json").json()["decision"]
    return client, decision


def _url(decision_id):
    return f"/v1/mmm/decisions/{decision_id}/outcomes"


def test_outcome_is_accepted_with_202_and_stored(decided):
    client, decision = decided
    action_id = decision["actions"][0]["action_id"]
    response = client.post(
        _url(decision["decision_id"]), {"action_id": action_id, "result": "accepted"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    outcome = Outcome.objects.get(pk=response.json()["outcome_id"])
    assert (outcome.result, outcome.actor_id, str(outcome.action_id)) == ("accepted", "actor-1", action_id)
    assert outcome.interacted_at is not None
    assert outcome.action_type == "mirror"


def test_only_the_actor_or_a_service_with_the_scope_reports_outcomes(decided, client_for):
    _, decision = decided
    payload = {"action_id": decision["actions"][0]["action_id"], "result": "accepted"}
    url = _url(decision["decision_id"])
    # another developer cannot report in actor-1's name
    other = client_for(actor_id="dev-2")
    refused = other.post(url, payload, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert other.post(url, {**payload, "actor_id": "actor-1"}, format="json").status_code == 403
    # a service principal holding mmm.outcome.any may; the outcome is actor-1's
    edge = client_for(actor_id="edge-agent", actor_type="ai_agent", scopes=["mmm.outcome", "mmm.outcome.any"])
    shown = edge.post(url, {**payload, "result": "shown"}, format="json")
    assert shown.status_code == 202
    assert Outcome.objects.get(pk=shown.json()["outcome_id"]).actor_id == "actor-1"
    # naming someone else as the actor is refused, naming the field
    wrong = edge.post(url, {**payload, "actor_id": "dev-2"}, format="json")
    assert (wrong.status_code, list(wrong.json()["error"]["fields"])) == (400, ["actor_id"])
    assert Outcome.objects.count() == 1


@pytest.mark.parametrize("result", ["dismissed", "failed"])
def test_reason_is_required_for_dismissed_and_failed(decided, result):
    client, decision = decided
    payload = {"action_id": decision["actions"][0]["action_id"], "result": result}
    response = client.post(_url(decision["decision_id"]), payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason"]
    ok = client.post(_url(decision["decision_id"]), {**payload, "reason": "not relevant"}, format="json")
    assert ok.status_code == 202
    assert Outcome.objects.count() == 1


def test_unknown_result_is_400(decided):
    client, decision = decided
    payload = {"action_id": decision["actions"][0]["action_id"], "result": "loved"}
    response = client.post(_url(decision["decision_id"]), payload, format="json")
    assert list(response.json()["error"]["fields"]) == ["result"]


def test_action_of_another_decision_or_unknown_is_400(decided):
    client, decision = decided
    stranger = ActionFactory()  # same tenant, another decision
    for action_id in (str(stranger.id), "00000000-0000-0000-0000-000000000000"):
        response = client.post(
            _url(decision["decision_id"]), {"action_id": action_id, "result": "shown"}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["action_id"]
    assert Outcome.objects.count() == 0


def test_decision_of_another_tenant_is_404(decided, client_for):
    _, decision = decided
    other = client_for(tenant_id="tenant-b")
    payload = {"action_id": decision["actions"][0]["action_id"], "result": "shown"}
    response = other.post(_url(decision["decision_id"]), payload, format="json")
    assert response.status_code == 404
    assert other.post(_url("not-a-uuid"), payload, format="json").status_code == 404
    assert Outcome.objects.count() == 0


def test_outcome_needs_the_outcome_scope(decided, client_for):
    _, decision = decided
    payload = {"action_id": decision["actions"][0]["action_id"], "result": "shown"}
    response = client_for(scopes=["mmm.read", "mmm.decide"]).post(
        _url(decision["decision_id"]), payload, format="json"
    )
    assert response.status_code == 403


def test_nudges_lists_pending_ide_actions_until_an_outcome_arrives(decided):
    client, decision = decided
    nudges = client.get("/v1/mmm/actors/actor-1/nudges?surface=ide").json()
    assert nudges["surface"] == "ide"
    assert [n["type"] for n in nudges["nudges"]] == ["mirror", "mentor"]  # the decision's own order
    mirror = next(n for n in nudges["nudges"] if n["type"] == "mirror")
    assert set(mirror["payload"]) == {"pill", "card"}
    client.post(
        _url(decision["decision_id"]), {"action_id": mirror["action_id"], "result": "shown"}, format="json"
    )
    remaining = client.get("/v1/mmm/actors/actor-1/nudges?surface=ide").json()["nudges"]
    assert [n["type"] for n in remaining] == ["mentor"]
    ci = client.get("/v1/mmm/actors/actor-1/nudges?surface=ci").json()["nudges"]
    assert ci == []  # the mirror was the only CI action, and it has an outcome now


def test_nudges_of_another_actor_need_admin(decided, client_for):
    assert client_for(actor_id="actor-2").get("/v1/mmm/actors/actor-1/nudges").status_code == 403
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    assert len(admin.get("/v1/mmm/actors/actor-1/nudges").json()["nudges"]) == 2
    assert (
        client_for(tenant_id="tenant-b", actor_id="actor-1")
        .get("/v1/mmm/actors/actor-1/nudges")
        .json()["nudges"]
        == []
    )


def test_nudges_query_is_validated(decided):
    client, _ = decided
    response = client.get("/v1/mmm/actors/actor-1/nudges?surface=email&limit=0")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"surface", "limit"}
