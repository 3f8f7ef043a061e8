"""Tenant policy PUT (spec 11.5) and actor preferences, snooze and cache (spec 11.4, FR-14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from preferences.models import TenantPolicy
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db

POLICY = "/v1/mmm/tenants/tenant-a/policy"


@pytest.fixture
def admin(client_for):
    return client_for(actor_id="lead-1", roles=["tenant_admin"])


def _decide(client, signal_id="s1"):
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.check_run.failed"},
    }
    return client.post("/v1/mmm/decide", body, format="json").json()["decision"]


def test_policy_put_changes_given_fields_and_keeps_the_others(admin):
    body = {
        "quotas": {"max_actions_per_hour": 5},
        "quiet_hours": {"start": 23, "end": 7, "timezone": "Europe/Paris"},
        "enabled_action_types": ["mirror", "mentor"],
        "safety_critical": True,
        "retention": {"decision_days": 30},
        "priorities": {"mentor": 2},
    }
    updated = admin.put(POLICY, body, format="json").json()
    assert updated["quotas"]["max_actions_per_hour"] == 5
    assert updated["quotas"]["max_actions_per_day"] == 10  # kept
    assert updated["quiet_hours"] == {"start": 23, "end": 7, "timezone": "Europe/Paris"}
    assert updated["enabled_action_types"] == ["mirror", "mentor"]
    assert updated["retention"] == {"decision_days": 30, "outcome_days": 365}
    assert updated["safety_critical"] is True
    assert admin.get(POLICY).json() == updated
    receipt = receipt_document(Receipt.objects.get(kind="admin_config"))
    assert receipt["inputs"] == {
        "resource_type": "tenant_policy",
        "resource_id": "tenant-a",
        "operation": "update",
    }
    assert receipt["before"] is None and receipt["after"]["quotas"]["max_actions_per_hour"] == 5
    # a second change records the before state
    admin.put(POLICY, {"cooldown_minutes": 15}, format="json")
    second = receipt_document(Receipt.objects.filter(kind="admin_config").order_by("-created_at").first())
    assert (second["before"]["cooldown_minutes"], second["after"]["cooldown_minutes"]) == (60, 15)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quiet_hours": {"start": 24, "end": 6}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": 22, "end": 6, "timezone": "Mars/Olympus"}}, "quiet_hours.timezone"),
        ({"enabled_surfaces": ["ide", "pager"]}, "enabled_surfaces"),
        ({"enabled_action_types": ["nudge"]}, "enabled_action_types"),
        ({"quotas": {"max_actions_per_hour": -1}}, "quotas.max_actions_per_hour"),
        ({"quotas": {"per_minute": 1}}, "quotas.per_minute"),
        ({"retention": {"decision_days": 0}}, "retention.decision_days"),
        ({"priorities": {"mentor": "high"}}, "priorities.mentor"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_policy_put_validation_names_the_field_and_writes_nothing(admin, body, field):
    response = admin.put(POLICY, body, format="json")
    assert response.status_code == 400, response.content
    assert any(key.startswith(field) for key in response.json()["error"]["fields"]), response.json()
    assert not TenantPolicy.objects.exists()
    assert not Receipt.objects.exists()


def test_policy_of_another_tenant_or_without_admin_role(admin, client_for):
    assert (
        admin.put("/v1/mmm/tenants/tenant-b/policy", {"safety_critical": True}, format="json").status_code
        == 404
    )
    assert client_for().put(POLICY, {"safety_critical": True}, format="json").status_code == 403
    assert not TenantPolicy.objects.exists()


def test_fm_mmm_01_disabling_multiplier_through_the_api(admin, client_for):
    admin.put(
        POLICY,
        {"quiet_hours": {"start": 0, "end": 0}, "enabled_action_types": ["mirror", "mentor"]},
        format="json",
    )
    publish_playbook(
        {"name": "all", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR, MULTIPLIER]}
    )
    decision = _decide(client_for())
    assert [a["type"] for a in decision["actions"]] == ["mirror", "mentor"]


def test_actor_edits_own_preferences_admin_any_others_not(client_for):
    own = client_for(actor_id="dev-1")
    body = {"opt_out_categories": ["multiplier"], "preferred_surfaces": ["ide"]}
    assert own.put("/v1/mmm/actors/dev-1/preferences", body, format="json").json()["preferred_surfaces"] == [
        "ide"
    ]
    assert (
        client_for(actor_id="dev-2").put("/v1/mmm/actors/dev-1/preferences", body, format="json").status_code
        == 403
    )
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    changed = admin.put(
        "/v1/mmm/actors/dev-1/preferences", {"preferred_surfaces": ["ci"]}, format="json"
    ).json()
    assert changed["preferred_surfaces"] == ["ci"] and changed["opt_out_categories"] == ["multiplier"]
    bad = own.put("/v1/mmm/actors/dev-1/preferences", {"opt_out_categories": ["everything"]}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["opt_out_categories[0]"]


def test_snooze_takes_effect_at_once_despite_the_cache_and_cancel_restores(client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook(mirror_playbook())
    client = client_for(actor_id="actor-1")
    assert len(_decide(client, "s1")["actions"]) == 1  # preferences now cached
    snoozed = client.post(
        "/v1/mmm/actors/actor-1/preferences/snooze", {"duration_hours": 2}, format="json"
    ).json()
    until = timezone.datetime.fromisoformat(snoozed["snooze_until"])
    assert timedelta(hours=1, minutes=59) < until - timezone.now() <= timedelta(hours=2)
    assert _decide(client, "s2")["actions"] == []
    cancelled = client.delete("/v1/mmm/actors/actor-1/preferences/snooze").json()
    assert cancelled["snooze_until"] is None
    assert len(_decide(client, "s3")["actions"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"duration_hours": 2, "until": "2030-01-01T00:00:00Z"},
        {"duration_hours": 0},
        {"until": "2000-01-01T00:00:00Z"},
    ],
)
def test_snooze_needs_exactly_one_valid_bound(client_for, body):
    response = client_for(actor_id="dev-1").post(
        "/v1/mmm/actors/dev-1/preferences/snooze", body, format="json"
    )
    assert response.status_code == 400


def test_snooze_until_a_time(client_for):
    until = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    body = {"until": until.isoformat()}
    response = client_for(actor_id="dev-1").post(
        "/v1/mmm/actors/dev-1/preferences/snooze", body, format="json"
    )
    assert timezone.datetime.fromisoformat(response.json()["snooze_until"]) == until
