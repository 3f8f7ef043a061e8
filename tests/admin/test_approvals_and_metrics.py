"""Multiplier consent and dual-channel approval (FR-6, IT-MMM-04); summary metrics (11.7)."""

from __future__ import annotations

import pytest

from decisions.engine.approvals import InvalidTransition, transition
from decisions.models import DualChannelApproval
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def multiplier(client_for):
    """Decides for actor dev-1 with a plain Multiplier and a dual-channel one (production_change)."""
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        dual_channel_approvers=["release-manager"],
    )
    dual = {**MULTIPLIER, "title": "Draft rollback", "tags": ["production_change"]}
    publish_playbook(
        {"name": "auto", "triggers": [{"event_type": "deploy.*"}], "actions": [MULTIPLIER, dual]}
    )
    actor = client_for(actor_id="dev-1")
    body = {
        "tenant_id": "tenant-a",
        "signal": {"signal_id": "d1", "source": "ci", "event_type": "deploy.failed", "severity": "high"},
    }
    actions = actor.post("/v1/mmm/decide", body, format="json").json()["decision"]["actions"]
    plain = next(a for a in actions if not a["requires_dual_channel"])
    dual_action = next(a for a in actions if a["requires_dual_channel"])
    return actor, plain["action_id"], dual_action["action_id"]


def _execution(client, action_id):
    return client.get(f"/v1/mmm/actions/{action_id}/execution").json()


def test_it_mmm_04_multiplier_needs_consent_before_execution(multiplier, client_for):
    actor, plain, _ = multiplier
    edge_agent = client_for(actor_id="edge-agent", actor_type="ai_agent", scopes=["mmm.read"])
    before = _execution(edge_agent, plain)
    assert before["requires_consent"] is True
    assert (before["may_execute"], before["reasons"]) == (False, ["consent_missing"])
    consented = actor.post(f"/v1/mmm/actions/{plain}/consent")
    assert consented.status_code == 200
    assert _execution(edge_agent, plain)["may_execute"] is True
    assert actor.post(f"/v1/mmm/actions/{plain}/consent").status_code == 409  # repeated
    assert Receipt.objects.filter(kind="admin_config", payload__inputs__operation="consent").count() == 1


def test_it_mmm_04_policy_that_forbids_multipliers_means_none_is_proposed(client_for):
    TenantPolicyFactory(
        tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, restrictions=["rerun_failed_jobs"]
    )
    publish_playbook(
        {"name": "auto", "triggers": [{"event_type": "deploy.*"}], "actions": [MIRROR, MULTIPLIER]}
    )
    body = {"tenant_id": "tenant-a", "signal": {"source": "ci", "event_type": "deploy.failed"}}
    actions = client_for().post("/v1/mmm/decide", body, format="json").json()["decision"]["actions"]
    assert [a["type"] for a in actions] == ["mirror"]


def test_only_the_actor_consents_and_only_to_multipliers(multiplier, client_for):
    _, plain, _ = multiplier
    stranger = client_for(actor_id="dev-2")
    assert stranger.post(f"/v1/mmm/actions/{plain}/consent").status_code == 403
    publish_playbook(
        {"name": "mirror-only", "triggers": [{"event_type": "push"}], "actions": [MIRROR, MENTOR]}
    )
    body = {"tenant_id": "tenant-a", "signal": {"source": "github", "event_type": "push"}}
    actor = client_for(actor_id="dev-1")
    mirror = actor.post("/v1/mmm/decide", body, format="json").json()["decision"]["actions"][0]
    assert actor.post(f"/v1/mmm/actions/{mirror['action_id']}/consent").status_code == 409
    assert _execution(actor, mirror["action_id"])["reasons"] == ["not_a_multiplier", "consent_missing"]


def test_dual_channel_full_path(multiplier, client_for):
    actor, _, dual = multiplier
    approver = client_for(actor_id="release-manager")
    assert _execution(actor, dual)["reasons"] == ["consent_missing", "dual_channel_pending"]
    actor.post(f"/v1/mmm/actions/{dual}/consent")
    assert _execution(actor, dual)["approval_status"] == "first_approved"
    state = approver.post(f"/v1/mmm/actions/{dual}/approve").json()
    assert (state["approval_status"], state["may_execute"]) == ("fully_approved", True)
    approval = DualChannelApproval.objects.get()
    assert (approval.actor_id, approval.approver_id) == ("dev-1", "release-manager")
    assert approval.first_approval_at < approval.second_approval_at


def test_dual_channel_rejects_out_of_order_repeated_and_same_person(multiplier, client_for):
    actor, _, dual = multiplier
    approver = client_for(actor_id="release-manager")
    # out of order: the approver before the actor
    early = approver.post(f"/v1/mmm/actions/{dual}/approve")
    assert early.status_code == 409 and "actor must approve first" in early.json()["error"]["message"]
    actor.post(f"/v1/mmm/actions/{dual}/consent")
    # same person: the actor, even as an admin, cannot give the second approval
    actor_as_admin = client_for(actor_id="dev-1", roles=["tenant_admin"])
    same = actor_as_admin.post(f"/v1/mmm/actions/{dual}/approve")
    assert same.status_code == 409 and "same person" in same.json()["error"]["message"]
    # not a designated approver
    assert client_for(actor_id="dev-3").post(f"/v1/mmm/actions/{dual}/approve").status_code == 403
    assert approver.post(f"/v1/mmm/actions/{dual}/approve").status_code == 200
    # repeated
    assert approver.post(f"/v1/mmm/actions/{dual}/approve").status_code == 409
    assert (
        approver.post(f"/v1/mmm/actions/{dual}/reject", {"reason": "late"}, format="json").status_code == 409
    )
    assert DualChannelApproval.objects.get().status == "fully_approved"


def test_rejection_is_final(multiplier, client_for):
    actor, _, dual = multiplier
    approver = client_for(actor_id="release-manager")
    actor.post(f"/v1/mmm/actions/{dual}/consent")
    rejected = approver.post(
        f"/v1/mmm/actions/{dual}/reject", {"reason": "freeze window"}, format="json"
    ).json()
    assert (rejected["approval_status"], rejected["may_execute"]) == ("rejected", False)
    assert approver.post(f"/v1/mmm/actions/{dual}/approve").status_code == 409
    assert approver.post(f"/v1/mmm/actions/{dual}/reject", {}, format="json").status_code == 400
    # the decision's read API says so
    from decisions.models import Action

    decision_id = Action.objects.get(pk=dual).decision_id
    listed = actor.get(f"/v1/mmm/decisions/{decision_id}").json()["decision"]["actions"]
    assert [(a["status"], a["status_reason"]) for a in listed if a["action_id"] == str(dual)] == [
        ("rejected", "dual_channel.rejected")
    ]


@pytest.mark.parametrize(
    ("status", "event", "result"),
    [
        ("pending", "actor_approve", "first_approved"),
        ("first_approved", "approver_approve", "fully_approved"),
        ("pending", "reject", "rejected"),
        ("first_approved", "reject", "rejected"),
        ("pending", "approver_approve", InvalidTransition),
        ("first_approved", "actor_approve", InvalidTransition),
        ("fully_approved", "approver_approve", InvalidTransition),
        ("fully_approved", "reject", InvalidTransition),
        ("rejected", "actor_approve", InvalidTransition),
    ],
)
def test_state_machine(status, event, result):
    if result is InvalidTransition:
        with pytest.raises(InvalidTransition):
            transition(status, event)
    else:
        assert transition(status, event) == result


def test_other_tenant_cannot_see_or_approve(multiplier, client_for):
    _, plain, dual = multiplier
    other = client_for(tenant_id="tenant-b", actor_id="dev-1", roles=["tenant_admin"])
    assert other.get(f"/v1/mmm/actions/{plain}/execution").status_code == 404
    assert other.post(f"/v1/mmm/actions/{dual}/consent").status_code == 404


def test_summary_metrics_are_aggregates_without_actor_detail(multiplier, client_for):
    actor, plain, _ = multiplier
    actor.post(
        f"/v1/mmm/decisions/{_decision_of(plain)}/outcomes",
        {"action_id": plain, "result": "accepted"},
        format="json",
    )
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    response = admin.get("/v1/mmm/tenants/tenant-a/metrics")
    assert response.status_code == 200
    body = response.json()
    assert body["aggregates"]["decisions_total"] == 1
    assert body["aggregates"]["actions_total"] == 2
    assert body["aggregates"]["actions_by_type"] == {"mirror": 0, "mentor": 0, "multiplier": 2}
    assert body["aggregates"]["outcomes_by_result"]["accepted"] == 1
    assert "dev-1" not in response.content.decode()
    assert admin.get("/v1/mmm/tenants/tenant-b/metrics").status_code == 404
    assert client_for().get("/v1/mmm/tenants/tenant-a/metrics").status_code == 403
    empty = admin.get(
        "/v1/mmm/tenants/tenant-a/metrics?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z"
    )
    assert empty.json()["aggregates"]["decisions_total"] == 0
    backwards = admin.get(
        "/v1/mmm/tenants/tenant-a/metrics?start_date=2021-01-01T00:00:00Z&end_date=2020-01-01T00:00:00Z"
    )
    assert backwards.status_code == 400 and "start_date" in backwards.json()["error"]["fields"]


def _decision_of(action_id):
    from decisions.models import Action

    return str(Action.objects.get(pk=action_id).decision_id)


@pytest.mark.parametrize(
    "query",
    [
        "end_date=0001-01-11T21:43:08.225410%2B10:50",  # found by the schemathesis fuzz: was a 500
        "start_date=0001-01-01T00:00:00Z",
        "end_date=9999-12-31T23:59:59Z",
    ],
)
def test_a_period_at_the_ends_of_the_calendar_is_answered(client_for, query):
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    response = admin.get(f"/v1/mmm/tenants/tenant-a/metrics?{query}")
    assert response.status_code == 200, response.content
    assert response.json()["aggregates"]["decisions_total"] == 0
