"""Tenant policy and actor preferences edited in the Django admin go through the API's services:
one ``admin_config`` receipt and audit line per change, caches dropped, the API's validation."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from decisions.models import Decision
from mmm_project.vocabulary import Suppression
from preferences.models import ActorPreferences, TenantPolicy
from receipts.models import Receipt
from receipts.pseudonyms import actor_pseudonym
from receipts.services import receipt_document
from tests.admin.forms import submit
from tests.factories import ActorPreferencesFactory, TenantPolicyFactory, mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db


def _decide(client, signal_id: str) -> dict:
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.check_run.failed"},
    }
    response = client.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["decision"]


def _admin_receipts() -> list[dict]:
    rows = Receipt.objects.filter(kind="admin_config").order_by("created_at")
    return [receipt_document(row) for row in rows]


@pytest.fixture
def open_tenant():
    """tenant-a: a Mirror playbook, quiet hours and cool-downs off, Mirror disabled by policy."""
    policy = TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        enabled_action_types=["mentor"],
    )
    publish_playbook(mirror_playbook())
    return policy


def test_policy_edit_writes_one_receipt_and_audit_line_and_the_next_decide_sees_it(
    admin_client, admin_user, client_for, open_tenant, caplog
):
    # given a policy that disables Mirror, and the receipts written so far
    before = len(_admin_receipts())
    url = reverse("admin:preferences_tenantpolicy_change", args=[open_tenant.pk])
    # when a superuser enables Mirror in the admin
    with caplog.at_level(logging.INFO, logger="mmm.audit"):
        response = submit(admin_client, url, {"enabled_action_types": '["mirror", "mentor"]'})
    # then one admin_config receipt records the change, by that admin, with one audit line
    assert response.status_code == 302, response.content
    receipts = _admin_receipts()
    assert len(receipts) == before + 1
    receipt = receipts[-1]
    assert receipt["inputs"] == {
        "resource_type": "tenant_policy",
        "resource_id": "tenant-a",
        "operation": "update",
    }
    assert receipt["actor_id"] == actor_pseudonym(
        tenant_id="tenant-a", actor_id=f"django-admin:{admin_user.pk}"
    )
    assert receipt["before"]["enabled_action_types"] == ["mentor"]
    assert receipt["after"]["enabled_action_types"] == ["mirror", "mentor"]
    audit = [r for r in caplog.records if r.name == "mmm.audit"]
    assert [(r.resource_type, r.receipt_id) for r in audit] == [("tenant_policy", receipt["receipt_id"])]
    # and the next decide is made under the new policy
    assert [a["type"] for a in _decide(client_for(), "s1")["actions"]] == ["mirror"]


def test_policy_form_validates_like_the_api_and_writes_nothing(admin_client, open_tenant):
    before = len(_admin_receipts())
    url = reverse("admin:preferences_tenantpolicy_change", args=[open_tenant.pk])
    response = submit(admin_client, url, {"timezone": "Mars/Olympus", "enabled_surfaces": '["ide", "pager"]'})
    assert response.status_code == 200  # the form again, with the API's messages
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"timezone", "enabled_surfaces"}
    assert "unknown IANA time zone" in errors["timezone"][0]
    open_tenant.refresh_from_db()
    assert (open_tenant.timezone, open_tenant.enabled_surfaces) == ("UTC", ["ide", "ci", "alert"])
    assert len(_admin_receipts()) == before


def test_policy_added_in_the_admin_is_created_by_the_service(admin_client):
    response = submit(
        admin_client,
        reverse("admin:preferences_tenantpolicy_add"),
        {"tenant_id": "tenant-b", "cooldown_minutes": "5"},
    )
    assert response.status_code == 302, response.content
    policy = TenantPolicy.objects.get(tenant_id="tenant-b")
    assert policy.cooldown_minutes == 5
    (receipt,) = _admin_receipts()
    assert receipt["tenant_id"] == "tenant-b" and receipt["before"] is None
    assert receipt["after"]["cooldown_minutes"] == 5


def test_llm_budgets_and_override_windows_are_edited_through_the_api_serializer(admin_client, open_tenant):
    url = reverse("admin:preferences_tenantpolicy_change", args=[open_tenant.pk])
    window = '[{"window_id": "w1", "starts_at": "2026-03-04T00:00:00Z", "ends_at": "2026-03-05T00:00:00Z"}]'
    refused = submit(admin_client, url, {"llm_daily_cost_budget": "-1", "override_windows": window})
    assert set(refused.context["adminform"].form.errors) == {"llm_daily_cost_budget", "override_windows"}
    window = window.replace('"}]', '", "restrict": ["multiplier"]}]')
    fields = {"llm_daily_token_budget": "5000", "system_prompt_id": "sp-1", "override_windows": window}
    assert submit(admin_client, url, fields).status_code == 302
    after = _admin_receipts()[-1]["after"]
    assert after["llm"] == {"daily_token_budget": 5000, "daily_cost_budget": None, "system_prompt_id": "sp-1"}
    assert after["override_windows"][0]["restrict"] == ["multiplier"]


def test_saving_an_unchanged_policy_writes_no_receipt(admin_client, open_tenant):
    before = len(_admin_receipts())
    url = reverse("admin:preferences_tenantpolicy_change", args=[open_tenant.pk])
    assert submit(admin_client, url).status_code == 302
    assert len(_admin_receipts()) == before


def test_only_api_fields_are_editable_and_nothing_is_deleted(admin_client, open_tenant):
    form = (
        admin_client.get(reverse("admin:preferences_tenantpolicy_change", args=[open_tenant.pk]))
        .context["adminform"]
        .form
    )
    assert set(form.fields) == set(TenantPolicy.EDITABLE_FIELDS)  # the tenant id is read-only
    delete = admin_client.post(
        reverse("admin:preferences_tenantpolicy_delete", args=[open_tenant.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert TenantPolicy.objects.filter(pk=open_tenant.pk).exists()


def test_preferences_edit_writes_a_receipt_and_drops_the_cached_copy(
    admin_client, admin_user, client_for, open_tenant
):
    # given Mirror enabled and an actor whose preferences the decision path has cached
    open_tenant.enabled_action_types = ["mirror", "mentor"]
    open_tenant.save()
    prefs = ActorPreferencesFactory(tenant_id="tenant-a", actor_id="actor-1")
    actor = client_for(actor_id="actor-1")
    assert len(_decide(actor, "s1")["actions"]) == 1
    before = len(_admin_receipts())
    # when a superuser opts the actor out of Mirror in the admin
    url = reverse("admin:preferences_actorpreferences_change", args=[prefs.pk])
    response = submit(admin_client, url, {"opt_out_categories": '["mirror"]'})
    # then one receipt records it and the very next decide honours it
    assert response.status_code == 302, response.content
    receipts = _admin_receipts()
    assert len(receipts) == before + 1
    assert receipts[-1]["inputs"]["resource_type"] == "actor_preferences"
    assert receipts[-1]["after"]["opt_out_categories"] == ["mirror"]
    assert receipts[-1]["actor_id"] == actor_pseudonym(
        tenant_id="tenant-a", actor_id=f"django-admin:{admin_user.pk}"
    )
    decision = _decide(actor, "s2")
    assert decision["actions"] == []
    reasons = [s["reason"] for s in Decision.objects.get(pk=decision["decision_id"]).suppressed_actions]
    assert reasons == [Suppression.OPTED_OUT]


def test_preferences_form_refuses_what_the_api_refuses(admin_client):
    prefs = ActorPreferencesFactory(tenant_id="tenant-a", actor_id="actor-1")
    url = reverse("admin:preferences_actorpreferences_change", args=[prefs.pk])
    response = submit(admin_client, url, {"preferred_surfaces": '["pager"]'})
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"preferred_surfaces"}
    assert not Receipt.objects.exists()
    assert ActorPreferences.objects.get(pk=prefs.pk).preferred_surfaces == []


@pytest.mark.parametrize(
    "page", ["preferences_tenantpolicy_add", "preferences_actorpreferences_add", "experiments_experiment_add"]
)
def test_add_pages_render(admin_client, page):
    assert admin_client.get(reverse(f"admin:{page}")).status_code == 200


def test_preferences_added_in_the_admin_are_created_by_the_service(admin_client):
    response = submit(
        admin_client,
        reverse("admin:preferences_actorpreferences_add"),
        {"tenant_id": "tenant-a", "actor_id": "dev-9", "preferred_surfaces": '["ide"]'},
    )
    assert response.status_code == 302, response.content
    assert ActorPreferences.objects.get(actor_id="dev-9").preferred_surfaces == ["ide"]
    (receipt,) = _admin_receipts()
    assert receipt["before"] is None and receipt["after"]["preferred_surfaces"] == ["ide"]
