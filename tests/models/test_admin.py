"""Django admin: every model registered and usable by a superuser; immutable ones read-only.

Writes through the admin (services, receipts, legal hold) are tested in tests/admin/test_admin_*.py.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from decisions.models import Decision
from receipts.models import Receipt
from tests import factories

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("decisions", "playbooks", "preferences", "experiments", "receipts")
IMMUTABLE = {
    "decisions.Signal",
    "decisions.Decision",
    "decisions.Action",
    "decisions.Outcome",
    "decisions.DualChannelApproval",
    "decisions.RejectedSignal",
    "decisions.WebhookEndpoint",  # read-only: the API has no update; deactivate is an action
    "decisions.WebhookRoute",
    "decisions.Delivery",
    "decisions.ActionRevision",
    "decisions.LLMUsage",
    "playbooks.PlaybookVersion",
    "playbooks.PlaybookTrigger",
    "receipts.Receipt",
    "receipts.ReceiptKey",
    "receipts.ActorKey",
    "receipts.ReceiptLog",
    "receipts.LogNode",
    "receipts.SignedTreeHead",
    "decisions.ActorDeletionRequest",
    "experiments.BanditArm",
}
FACTORIES = {
    "decisions.ActorDeletionRequest": factories.ActorDeletionRequestFactory,
    "receipts.ActorKey": factories.ActorKeyFactory,
    "decisions.Signal": factories.SignalFactory,
    "decisions.Decision": factories.DecisionFactory,
    "decisions.Action": factories.ActionFactory,
    "decisions.Outcome": factories.OutcomeFactory,
    "decisions.DualChannelApproval": factories.DualChannelApprovalFactory,
    "decisions.RejectedSignal": factories.RejectedSignalFactory,
    "decisions.Delivery": factories.DeliveryFactory,
    "decisions.ActionRevision": factories.ActionRevisionFactory,
    "decisions.LLMUsage": factories.LLMUsageFactory,
    "decisions.WebhookEndpoint": factories.WebhookEndpointFactory,
    "decisions.WebhookRoute": factories.WebhookRouteFactory,
    "playbooks.Playbook": factories.PlaybookFactory,
    "playbooks.PlaybookVersion": factories.PlaybookVersionFactory,
    "playbooks.PlaybookTrigger": factories.PlaybookTriggerFactory,
    "preferences.TenantPolicy": factories.TenantPolicyFactory,
    "preferences.ActorPreferences": factories.ActorPreferencesFactory,
    "experiments.Experiment": factories.ExperimentFactory,
    "experiments.BanditArm": factories.BanditArmFactory,
    "receipts.Receipt": factories.ReceiptFactory,
    "receipts.ReceiptKey": factories.ReceiptKeyFactory,
    "receipts.ReceiptLog": factories.ReceiptLogFactory,
    "receipts.LogNode": factories.LogNodeFactory,
    "receipts.SignedTreeHead": factories.SignedTreeHeadFactory,
}
MODELS = [m for label in PROJECT_APPS for m in apps.get_app_config(label).get_models()]


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_has_a_factory_and_an_admin():
    labels = {m._meta.label for m in MODELS}
    assert labels == set(FACTORIES)
    assert all(m in admin.site._registry for m in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_superuser_can_browse_list_and_detail(admin_client, model):
    row = FACTORIES[model._meta.label]()
    listing = admin_client.get(_url(model, "changelist"))
    assert listing.status_code == 200
    detail = admin_client.get(_url(model, "change", row.pk))
    assert detail.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_immutable_models_cannot_be_added_or_edited(admin_client, model):
    row = FACTORIES[model._meta.label]()
    model_admin = admin.site._registry[model]
    request = admin_client.get(_url(model, "changelist")).wsgi_request
    if model._meta.label in IMMUTABLE:
        assert admin_client.get(_url(model, "add")).status_code == 403
        assert not model_admin.has_delete_permission(request, row)
        editable = set(model_admin.get_fields(request, row)) - set(
            model_admin.get_readonly_fields(request, row)
        )
        assert not editable or not model_admin.has_change_permission(request, row)
    else:
        assert model_admin.has_change_permission(request, row)
        assert not model_admin.has_delete_permission(request, row)  # the API deletes none of them


def test_legal_hold_admin_action(admin_client):
    decision = factories.DecisionFactory()
    response = admin_client.post(
        _url(Decision, "changelist"),
        {"action": "place_legal_hold", "_selected_action": [str(decision.pk)]},
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.legal_hold is True
    assert Receipt.objects.filter(kind="admin_config", tenant_id=decision.tenant_id).count() == 1


def test_admin_requires_login(client):
    response = client.get(_url(Decision, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
