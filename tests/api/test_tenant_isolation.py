"""A token of tenant A never reads a row of tenant B, on every API so far (NFR-5).

Detail endpoints answer 404 (never 403) for another tenant's ids, so ids cannot be probed.
"""

from __future__ import annotations

import pytest

from tests.factories import (
    ActionFactory,
    ActorPreferencesFactory,
    DecisionFactory,
    PlaybookFactory,
    TenantPolicyFactory,
    published_playbook,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(client_for):
    return client_for(tenant_id="tenant-a", actor_id="actor-1", roles=["tenant_admin"])


def test_decision_of_other_tenant_is_404(client_a):
    # given a decision of tenant-b and one of tenant-a
    theirs = ActionFactory(decision__tenant_id="tenant-b", tenant_id="tenant-b").decision
    ours = ActionFactory().decision
    # when tenant-a reads both
    mine = client_a.get(f"/v1/mmm/decisions/{ours.id}")
    other = client_a.get(f"/v1/mmm/decisions/{theirs.id}")
    # then only its own is visible; the other is indistinguishable from a missing id
    assert mine.status_code == 200
    assert mine.json()["decision"]["decision_id"] == str(ours.id)
    assert len(mine.json()["decision"]["actions"]) == 1
    assert other.status_code == 404
    assert other.json() == client_a.get("/v1/mmm/decisions/00000000-0000-0000-0000-000000000000").json()


def test_decision_detail_hides_suppressed_actions_and_context(client_a):
    decision = DecisionFactory(
        suppressed_actions=[{"type": "mentor", "reason": "quota.hour"}], context={"repo_id": "r1"}
    )
    body = client_a.get(f"/v1/mmm/decisions/{decision.id}").json()["decision"]
    assert "suppressed_actions" not in body
    assert "context" not in body


def test_malformed_decision_id_is_404_not_500(client_a):
    response = client_a.get("/v1/mmm/decisions/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_playbook_list_shows_only_own_tenant(client_a):
    mine = PlaybookFactory(name="ci-failures")
    PlaybookFactory(tenant_id="tenant-b", name="ci-failures")
    PlaybookFactory(tenant_id="tenant-b", name="theirs-only")
    body = client_a.get("/v1/mmm/playbooks").json()
    assert [p["playbook_id"] for p in body] == [str(mine.id)]


def test_playbook_list_status_filter(client_a):
    published = published_playbook(playbook__name="live")
    PlaybookFactory(name="draft-one")
    body = client_a.get("/v1/mmm/playbooks?status=published").json()
    assert [p["name"] for p in body] == ["live"]
    assert body[0]["published_version"] == 1
    assert body[0]["triggers"] == published.published_version.triggers


def test_playbook_of_other_tenant_is_404(client_a):
    theirs = PlaybookFactory(tenant_id="tenant-b")
    ours = published_playbook()
    assert client_a.get(f"/v1/mmm/playbooks/{ours.id}").status_code == 200
    response = client_a.get(f"/v1/mmm/playbooks/{theirs.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_tenant_policy_of_other_tenant_is_404(client_a):
    TenantPolicyFactory(tenant_id="tenant-b", max_actions_per_day=99)
    TenantPolicyFactory(tenant_id="tenant-a", max_actions_per_day=7)
    assert client_a.get("/v1/mmm/tenants/tenant-a/policy").json()["quotas"]["max_actions_per_day"] == 7
    response = client_a.get("/v1/mmm/tenants/tenant-b/policy")
    assert response.status_code == 404
    assert "99" not in response.content.decode()


def test_tenant_policy_defaults_when_none_stored(client_a):
    body = client_a.get("/v1/mmm/tenants/tenant-a/policy").json()
    assert body["quiet_hours"] == {"start": 22, "end": 6, "timezone": "UTC"}
    assert body["quotas"]["max_actions_per_hour"] == 3
    assert body["quotas"]["max_actions_per_day"] == 10
    assert body["retention"] == {"decision_days": 90, "outcome_days": 365}
    assert body["enabled_action_types"] == ["mirror", "mentor", "multiplier"]


def test_actor_preferences_scoped_to_token_tenant(client_for):
    # given the same actor id in two tenants, with different preferences
    ActorPreferencesFactory(tenant_id="tenant-a", actor_id="dev-7", opt_out_categories=["mentor"])
    ActorPreferencesFactory(tenant_id="tenant-b", actor_id="dev-7", opt_out_categories=["multiplier"])
    # when dev-7 of tenant-a reads its preferences
    body = client_for(tenant_id="tenant-a", actor_id="dev-7").get("/v1/mmm/actors/dev-7/preferences").json()
    # then it sees its own tenant's row only
    assert body["opt_out_categories"] == ["mentor"]
    assert body["tenant_id"] == "tenant-a"


def test_actor_reads_only_own_preferences_admin_reads_any(client_for):
    ActorPreferencesFactory(actor_id="dev-9", preferred_surfaces=["ci"])
    other = client_for(actor_id="dev-8").get("/v1/mmm/actors/dev-9/preferences")
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "FORBIDDEN"
    admin = client_for(actor_id="lead-1", roles=["tenant_admin"]).get("/v1/mmm/actors/dev-9/preferences")
    assert admin.status_code == 200
    assert admin.json()["preferred_surfaces"] == ["ci"]


def test_actor_preferences_defaults_when_none_stored(client_for):
    body = client_for(actor_id="new-actor").get("/v1/mmm/actors/new-actor/preferences").json()
    assert body == {
        "tenant_id": "tenant-a",
        "actor_id": "new-actor",
        "opt_out_categories": [],
        "preferred_surfaces": [],
        "snooze_until": None,
        "muted_playbooks": [],
        "updated_at": None,
    }
