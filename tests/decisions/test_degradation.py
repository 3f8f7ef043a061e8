"""NFR-1 degradation: many matching playbooks cost about what a few do (evaluation stops once
nothing more can be delivered, the rest summarised), and a decide past its latency budget
answers with no actions, degraded, its receipt saying why."""

from __future__ import annotations

import pytest

from decisions.models import Decision
from mmm_project.vocabulary import Suppression
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def roomy_policy():
    return TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
        max_actions_per_decision=3,
    )


def _decide(client, signal_id: str, surface: str = "ide"):
    body = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/a", "branch": "main", "surface": surface},
        "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.x", "severity": "high"},
    }
    response = client.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["decision"]


def test_many_matching_playbooks_are_summarised_not_recorded_one_by_one(roomy_policy, client_for):
    # given 40 matching playbooks of two actions each, the later ones ranked higher
    for n in range(40):
        mirror = {**MIRROR, "priority": 0.1 + n / 100}
        publish_playbook(
            {"name": f"p{n:02d}", "triggers": [{"event_type": "ci.*"}], "actions": [mirror, MENTOR]}
        )
    # when a decide matches all of them
    decision = _decide(client_for(actor_id="dev-1"), "many-1")
    # then the cap's worth of the highest-ranked actions is delivered
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert len(decision["actions"]) == 3
    assert {a["type"] for a in decision["actions"]} == {"mentor"}  # mentor 0.5 > every mirror here
    # and the templates never looked at are one summary record, counted in the receipt
    summary = [r for r in stored.suppressed_actions if "count" in r]
    assert summary == [{"reason": Suppression.CAP_PER_DECISION, "count": summary[0]["count"]}]
    assert len(stored.suppressed_actions) < 10
    assert 3 + sum(r.get("count", 1) for r in stored.suppressed_actions) == 80
    receipt = Receipt.objects.get(decision_id=stored.id, kind="decision")
    assert f"{Suppression.CAP_PER_DECISION} x77" in receipt.payload["decision_rationale"]


def test_the_same_matched_playbooks_rank_alike_on_every_decision(roomy_policy, client_for):
    """The ranking of a set of matched playbooks is kept per process (NFR-1): the next decision
    matching the same ones ranks every template again, in the same order, none used up."""
    from decisions.engine.prioritise import ranking

    for n in range(40):
        mirror = {**MIRROR, "priority": 0.1 + n / 100}
        publish_playbook(
            {"name": f"p{n:02d}", "triggers": [{"event_type": "ci.*"}], "actions": [mirror, MENTOR]}
        )
    ranking._heaps.clear()
    picked = []
    for n in range(3):
        decision = _decide(client_for(actor_id=f"dev-{n}"), f"same-{n}")
        stored = Decision.objects.get(pk=decision["decision_id"])
        picked.append([a.playbook_version.playbook.name for a in stored.actions.order_by("position")])
        assert 3 + sum(r.get("count", 1) for r in stored.suppressed_actions) == 80
    assert picked == [["p00", "p01", "p02"]] * 3  # mentors tie at 0.5: by playbook name
    assert len(ranking._heaps) == 1  # worked out once


def test_a_snoozed_actor_stops_evaluation_at_the_first_batch(roomy_policy, client_for):
    for n in range(20):
        publish_playbook({"name": f"p{n:02d}", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    client = client_for(actor_id="dev-1")
    client.put(
        "/v1/mmm/actors/dev-1/preferences?tenant_id=tenant-a",
        {"snooze_until": "2999-01-01T00:00:00Z"},
        format="json",
    )
    stored = Decision.objects.get(pk=_decide(client, "snoozed-1")["decision_id"])
    reasons = {r["reason"] for r in stored.suppressed_actions}
    assert reasons == {Suppression.SNOOZED}
    assert sum(r.get("count", 1) for r in stored.suppressed_actions) == 20
    assert len(stored.suppressed_actions) < 20


def test_a_decide_past_its_latency_budget_answers_no_actions_degraded(roomy_policy, client_for, settings):
    # given a playbook that matches, and an IDE budget already spent when the gates run
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})
    settings.DECIDE_LATENCY_BUDGET_SECONDS = {"ide": 0.0, "ci": 60.0}
    client = client_for(actor_id="dev-1")
    # when it decides for the IDE
    decision = _decide(client, "late-1")
    # then no nudge rather than a partial one: no actions, degraded, and the receipt says why
    assert decision["actions"] == [] and decision["degraded_mode"] is True
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert {r["reason"] for r in stored.suppressed_actions} == {Suppression.LATENCY_BUDGET}
    receipt = Receipt.objects.get(decision_id=stored.id, kind="decision")
    assert receipt.payload["degraded"] is True
    assert "latency_budget" in receipt.payload["decision_badges"]
    # and no fatigue slot was spent: the CI surface's larger budget delivers both actions
    assert len(_decide(client, "late-2", surface="ci")["actions"]) == 2
