"""POST /v1/mmm/triggers/evaluate (FR-1 explicit triggers): which playbooks would fire and why,
with nothing written and no fatigue reserved; bad input names the field; tenants are isolated."""

from __future__ import annotations

import pytest

from decisions.engine.explain import explain_candidate
from decisions.models import Action, Decision, Signal
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER, candidate, context
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

EVALUATE = "/v1/mmm/triggers/evaluate"


def body(**overrides):
    data = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {"source": "github", "event_type": "ci.check_run.failed", "severity": "high"},
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _daytime_policy():
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=60,
        enabled_action_types=["mirror", "mentor"],
    )


@pytest.fixture
def client(client_for):
    return client_for(tenant_id="tenant-a", actor_id="actor-1", roles=["developer"])


def _written() -> tuple[int, int, int, int]:
    return Signal.objects.count(), Decision.objects.count(), Action.objects.count(), Receipt.objects.count()


def test_lists_fired_and_not_fired_playbooks_with_their_conditions(client):
    publish_playbook(
        {
            "name": "main-ci",
            "triggers": [{"event_type": "ci.*", "min_severity": "medium"}, {"event_type": "deploy.*"}],
            "conditions": ['context.branch == "main"', 'signal.severity in ["high", "critical"]'],
            "actions": [MIRROR, MULTIPLIER],
        }
    )
    publish_playbook(
        {
            "name": "release-ci",
            "triggers": [{"event_type": "ci.*"}],
            "conditions": ['context.branch == "release"'],
            "actions": [MIRROR],
        }
    )
    publish_playbook(
        {
            "name": "leads-only",
            "triggers": [{"event_type": "*", "actor_roles": ["lead"]}],
            "actions": [MENTOR],
        }
    )
    publish_playbook({"name": "deploys", "triggers": [{"event_type": "deploy.*"}], "actions": [MIRROR]})
    before = _written()

    response = client.post(EVALUATE, body(), format="json")

    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["tenant_id"], result["actor_id"], result["actor_type"]) == ("tenant-a", "actor-1", "human")
    assert result["signal"]["event_type"] == "ci.check_run.failed" and result["signal"]["severity"] == "high"
    [fired] = result["playbooks_fired"]
    assert fired["name"] == "main-ci" and fired["playbook_version"] == 1 and fired["reason"] is None
    # why: the trigger that fits (not the deploy one) and every condition's verdict
    assert fired["matched_triggers"] == [
        {"event_type": "ci.*", "source": "*", "min_severity": "medium", "actor_roles": []}
    ]
    assert fired["conditions"] == [
        {"expression": 'context.branch == "main"', "result": True, "error": None},
        {"expression": 'signal.severity in ["high", "critical"]', "result": True, "error": None},
    ]
    # what would reach the actor, and what the tenant policy would drop
    assert [a["type"] for a in fired["actions"]] == ["mirror"]
    assert fired["actions"][0]["payload"]["title"] == "CI failed on main"
    assert fired["suppressed"] == [
        {"type": "multiplier", "action_index": 1, "reason": "policy.action_type_disabled"}
    ]
    not_fired = {p["name"]: p for p in result["playbooks_not_fired"]}
    assert set(not_fired) == {"release-ci", "leads-only"}  # "deploys" has no trigger that fits
    assert not_fired["release-ci"]["reason"] == "condition 1 is false"
    assert not_fired["release-ci"]["conditions"][0]["result"] is False
    assert not_fired["release-ci"]["actions"] == []
    assert not_fired["leads-only"]["roles_fit"] is False
    assert not_fired["leads-only"]["reason"].startswith("actor_roles")
    # nothing was written
    assert _written() == before


def test_reserves_no_fatigue_but_shows_what_a_spent_cooldown_drops(client):
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    for _ in range(3):
        fired = client.post(EVALUATE, body(), format="json").json()["playbooks_fired"]
        assert [a["type"] for a in fired[0]["actions"]] == ["mirror"]
    # the real decision still gets its action: the evaluations took no cool-down slot
    decided = client.post("/v1/mmm/decide", body(), format="json").json()["decision"]
    assert [a["type"] for a in decided["actions"]] == ["mirror"]
    # now the playbook's cool-down is spent, and the evaluation says so
    [after] = client.post(EVALUATE, body(), format="json").json()["playbooks_fired"]
    assert after["actions"] == []
    assert after["suppressed"] == [{"type": "mirror", "action_index": 0, "reason": "fatigue.cooldown"}]


def test_a_condition_that_fails_to_evaluate_is_named(client):
    publish_playbook(
        {
            "name": "odd",
            "triggers": [{"event_type": "ci.*"}],
            "conditions": ["recent_signals[0].severity == 'high'"],
            "actions": [MIRROR],
        }
    )
    [entry] = client.post(EVALUATE, body(), format="json").json()["playbooks_not_fired"]
    assert entry["conditions"][0]["result"] is None and entry["conditions"][0]["error"]
    assert entry["reason"].startswith("condition 1: ")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"signal": {"source": "github"}}, "signal.event_type"),
        ({"signal": {"source": "github", "event_type": "bad type!"}}, "signal.event_type"),
        ({"signal": {"source": "github", "event_type": "ci.x", "severity": "dire"}}, "signal.severity"),
        ({"actor_type": "robot"}, "actor_type"),
        ({"context": {"surface": "pager"}}, "context.surface"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, change, field):
    response = client.post(EVALUATE, body(**change), format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert list(error["fields"]) == [field]
    assert _written() == (0, 0, 0, 0)


def test_tenants_are_isolated(client, client_for):
    publish_playbook(
        {"name": "b-ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]}, tenant_id="tenant-b"
    )
    # tenant-a sees none of tenant-b's playbooks
    result = client.post(EVALUATE, body(), format="json").json()
    assert result["playbooks_fired"] == [] and result["playbooks_not_fired"] == []
    # and may not evaluate for tenant-b
    response = client.post(EVALUATE, body(tenant_id="tenant-b"), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["fields"] == {"tenant_id": ["must be the token's tenant"]}
    # tenant-b's own token sees its playbook
    other = client_for(tenant_id="tenant-b", actor_id="actor-9")
    fired = other.post(EVALUATE, body(tenant_id="tenant-b"), format="json").json()["playbooks_fired"]
    assert [p["name"] for p in fired] == ["b-ci"]


def test_needs_the_decide_scope(client_for, api_client):
    assert api_client.post(EVALUATE, body(), format="json").status_code == 401
    assert client_for(scopes=["mmm.read"]).post(EVALUATE, body(), format="json").status_code == 403


def test_explain_candidate_agrees_with_matching():
    ctx = context()
    holds = candidate([MIRROR], conditions=['context.branch == "main"'], roles=((), ("lead",)))
    assert explain_candidate(holds, actor_roles=["developer"], context=ctx.as_dict()).fired
    wrong_role = candidate([MIRROR], roles=(("lead",),))
    explanation = explain_candidate(wrong_role, actor_roles=["developer"], context=ctx.as_dict())
    assert (explanation.fired, explanation.roles_fit) == (False, False)
    broken = candidate([MIRROR], conditions=["signal.severity =="], version_id="v-broken")
    verdict = explain_candidate(broken, actor_roles=[], context=ctx.as_dict())
    assert not verdict.fired and verdict.conditions[0]["error"].startswith("does not compile")
