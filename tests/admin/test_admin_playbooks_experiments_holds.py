"""Playbooks, experiments, webhook endpoints and legal holds in the Django admin: writes go through
the API's services (receipt and audit line each), read-only pages refuse POSTs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from decisions.models import Decision, Signal, WebhookEndpoint
from experiments.models import Experiment, ExperimentStatus
from playbooks.models import Playbook, PlaybookStatus, PlaybookTrigger
from playbooks.services import playbook_create
from receipts.models import Receipt
from receipts.pseudonyms import actor_pseudonym
from receipts.services import receipt_document
from tests import factories
from tests.admin.forms import submit

pytestmark = pytest.mark.django_db


def _receipts(resource_type: str) -> list[dict]:
    rows = Receipt.objects.filter(kind="admin_config").order_by("created_at")
    documents = [receipt_document(row) for row in rows]
    return [d for d in documents if d["inputs"]["resource_type"] == resource_type]


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _act(client, model, action: str, rows) -> object:
    return client.post(_changelist(model), {"action": action, "_selected_action": [str(r.pk) for r in rows]})


def test_playbook_metadata_edit_adds_a_version_with_its_receipt(admin_client, admin_user):
    playbook = factories.publish_playbook(factories.mirror_playbook())
    url = reverse("admin:playbooks_playbook_change", args=[playbook.pk])
    response = submit(admin_client, url, {"description": "Mirror of failing CI", "owner": "ci-team"})
    assert response.status_code == 302, response.content
    playbook.refresh_from_db()
    assert (playbook.latest_version, playbook.description, playbook.owner) == (
        2,
        "Mirror of failing CI",
        "ci-team",
    )
    assert playbook.published_version.version == 1  # live until published again, as with the API
    (update,) = [r for r in _receipts("playbook") if r["inputs"]["operation"] == "update"]
    assert update["actor_id"] == actor_pseudonym(
        tenant_id="tenant-a", actor_id=f"django-admin:{admin_user.pk}"
    )
    assert (update["before"]["owner"], update["after"]["owner"]) == ("", "ci-team")


def test_playbook_rename_to_a_taken_name_is_refused_with_the_services_message(admin_client):
    factories.publish_playbook(factories.mirror_playbook(name="taken"))
    playbook = factories.publish_playbook(factories.mirror_playbook(name="mine"))
    before = len(_receipts("playbook"))
    url = reverse("admin:playbooks_playbook_change", args=[playbook.pk])
    response = submit(admin_client, url, {"name": "taken"})
    assert response.status_code == 302 and response["Location"] == url
    shown = [str(m) for m in admin_client.get(url).context["messages"]]
    assert any("Not saved" in m and "already in use" in m for m in shown), shown
    playbook.refresh_from_db()
    assert (playbook.name, playbook.latest_version) == ("mine", 1)
    assert len(_receipts("playbook")) == before


def test_playbook_publish_and_deprecate_actions_call_the_services(admin_client):
    draft = playbook_create(tenant_id="tenant-a", document=factories.mirror_playbook(), actor_id="test")
    assert _act(admin_client, Playbook, "publish_playbooks", [draft]).status_code == 302
    draft.refresh_from_db()
    assert draft.status == PlaybookStatus.PUBLISHED
    assert PlaybookTrigger.objects.filter(playbook=draft).exists()  # the matching index was built
    assert _act(admin_client, Playbook, "deprecate_playbooks", [draft]).status_code == 302
    draft.refresh_from_db()
    assert draft.status == PlaybookStatus.DEPRECATED
    assert not PlaybookTrigger.objects.filter(playbook=draft).exists()
    operations = [r["inputs"]["operation"] for r in _receipts("playbook")]
    assert operations == ["create", "publish", "deprecate"]


def test_experiment_add_edit_activate_through_the_services(admin_client):
    playbook = factories.publish_playbook(factories.mirror_playbook(), tenant_id="tenant-b")
    variants = '[{"name": "control", "weight": 1}, {"name": "b", "weight": 1}]'
    response = submit(
        admin_client,
        reverse("admin:experiments_experiment_add"),
        {"playbook": str(playbook.pk), "name": "exp-1", "variants": variants},
    )
    assert response.status_code == 302, response.content
    experiment = Experiment.objects.get(name="exp-1")
    assert experiment.tenant_id == "tenant-b"  # the playbook's tenant
    url = reverse("admin:experiments_experiment_change", args=[experiment.pk])
    assert submit(admin_client, url, {"description": "two arms"}).status_code == 302
    assert _act(admin_client, Experiment, "activate_experiments", [experiment]).status_code == 302
    experiment.refresh_from_db()
    assert (experiment.description, experiment.status) == ("two arms", ExperimentStatus.ACTIVE)
    # while active the service refuses changes, and the admin says so
    refused = submit(admin_client, url, {"description": "changed while running"})
    assert refused.status_code == 302
    experiment.refresh_from_db()
    assert experiment.description == "two arms"
    operations = [(r["tenant_id"], r["inputs"]["operation"]) for r in _receipts("experiment")]
    assert operations == [("tenant-b", "create"), ("tenant-b", "update"), ("tenant-b", "activate")]


def test_experiment_form_validates_like_the_api(admin_client):
    playbook = factories.publish_playbook(factories.mirror_playbook())
    response = submit(
        admin_client,
        reverse("admin:experiments_experiment_add"),
        {"playbook": str(playbook.pk), "name": "exp-1", "variants": '[{"name": "control", "weight": 1}]'},
    )
    assert response.status_code == 200
    assert "variants" in response.context["adminform"].form.errors
    assert not Experiment.objects.exists()


def test_legal_hold_action_writes_one_receipt_per_tenant_touched(admin_client, admin_user):
    # given decisions of two tenants, and one of a third already on hold
    a1, a2 = factories.DecisionFactory(tenant_id="tenant-a"), factories.DecisionFactory(tenant_id="tenant-a")
    b1 = factories.DecisionFactory(tenant_id="tenant-b")
    c1 = factories.DecisionFactory(tenant_id="tenant-c", legal_hold=True)
    # when all four are placed on hold in the admin
    assert _act(admin_client, Decision, "place_legal_hold", [a1, a2, b1, c1]).status_code == 302
    # then all are held, and one receipt per tenant whose rows changed names them
    assert set(Decision.objects.values_list("legal_hold", flat=True)) == {True}
    receipts = {r["tenant_id"]: r for r in _receipts("legal_hold")}
    assert set(receipts) == {"tenant-a", "tenant-b"}
    assert receipts["tenant-a"]["inputs"] == {
        "resource_type": "legal_hold",
        "resource_id": "decisions.decision",
        "operation": "place",
    }
    assert sorted(receipts["tenant-a"]["after"]["ids"]) == sorted([str(a1.pk), str(a2.pk)])
    assert receipts["tenant-a"]["after"]["legal_hold"] is True
    assert receipts["tenant-b"]["actor_id"] == actor_pseudonym(
        tenant_id="tenant-b", actor_id=f"django-admin:{admin_user.pk}"
    )
    # and releasing writes the release receipts the same way
    assert _act(admin_client, Decision, "release_legal_hold", [b1]).status_code == 302
    assert Decision.objects.get(pk=b1.pk).legal_hold is False
    assert [r["inputs"]["operation"] for r in _receipts("legal_hold")][-1] == "release"


def test_legal_hold_on_signals_and_receipts_is_audited_too(admin_client):
    signal = factories.SignalFactory(tenant_id="tenant-a")
    receipt = factories.ReceiptFactory(tenant_id="tenant-b")
    _act(admin_client, Signal, "place_legal_hold", [signal])
    _act(admin_client, Receipt, "place_legal_hold", [receipt])
    held = {(r["tenant_id"], r["inputs"]["resource_id"]) for r in _receipts("legal_hold")}
    assert held == {("tenant-a", "decisions.signal"), ("tenant-b", "receipts.receipt")}


def test_webhook_endpoint_deactivate_action_uses_the_service(admin_client):
    endpoint = factories.WebhookEndpointFactory(tenant_id="tenant-a")
    assert _act(admin_client, WebhookEndpoint, "deactivate_webhook_endpoints", [endpoint]).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active is False
    (receipt,) = _receipts("webhook_endpoint")
    assert receipt["inputs"]["operation"] == "deactivate"


@pytest.mark.parametrize(
    ("factory", "field", "value"),
    [
        (factories.DecisionFactory, "legal_hold", "on"),
        (factories.SignalFactory, "event_type", "changed.by.hand"),
        (factories.ReceiptFactory, "legal_hold", "on"),
        (factories.WebhookEndpointFactory, "name", "renamed"),
        (factories.PlaybookVersionFactory, "created_by", "someone-else"),
    ],
    ids=["decision", "signal", "receipt", "webhook-endpoint", "playbook-version"],
)
def test_read_only_pages_refuse_post_changes(admin_client, factory, field, value):
    row = factory()
    model = type(row)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[row.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # no Save button
    original = getattr(row, field)
    assert admin_client.post(url, {field: value, "_save": "Save"}).status_code == 403
    row.refresh_from_db()
    assert getattr(row, field) == original
    add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    assert admin_client.post(add, {field: value}).status_code == 403
    assert not Receipt.objects.filter(kind="admin_config").exists()
