"""Schema: migrations in step with models, NFR-1 indexes, constraints, tenant scoping (spec 10, NFR-5)."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from decisions.models import Action, DualChannelApproval, Signal
from mmm_project.tenancy import TenantQuerySet
from tests.factories import (
    ActionFactory,
    DecisionFactory,
    PlaybookFactory,
    PlaybookVersionFactory,
    SignalFactory,
    TenantPolicyFactory,
)

PROJECT_APPS = ("decisions", "playbooks", "preferences", "experiments", "receipts")
# Tables that belong to the service, not to a tenant: the receipt signing keys.
GLOBAL_MODELS = {"receipts.ReceiptKey"}


def project_models():
    models = [model for label in PROJECT_APPS for model in apps.get_app_config(label).get_models()]
    return [model for model in models if model._meta.label not in GLOBAL_MODELS]


@pytest.mark.django_db
def test_makemigrations_check_is_clean():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_table_of_the_spec_exists():
    tables = {model._meta.db_table for model in project_models()}
    assert {
        "mmm_signals",
        "mmm_decisions",
        "mmm_actions",
        "mmm_outcomes",
        "mmm_playbooks",
        "mmm_playbook_versions",
        "mmm_tenant_policies",
        "mmm_actor_preferences",
        "mmm_dual_channel_approvals",
        "mmm_experiments",
        "mmm_receipts",
        "mmm_receipt_keys",
    } <= tables | {apps.get_model(label)._meta.db_table for label in GLOBAL_MODELS}


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_model_has_uuid_pk_and_tenant_scoping(model):
    assert model._meta.pk.get_internal_type() == "UUIDField"
    assert model._meta.get_field("tenant_id").max_length == 128
    assert isinstance(model.objects.all(), TenantQuerySet)


@pytest.mark.django_db
@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_for_tenant_with_empty_tenant_matches_nothing(model):
    assert model.objects.for_tenant("").query.is_empty()


def _db_indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: info["columns"] for name, info in constraints.items() if info["index"] or info["unique"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("mmm_playbooks", ["tenant_id", "status"]),  # NFR-1
        ("mmm_decisions", ["tenant_id", "created_at"]),  # NFR-1
        ("mmm_signals", ["tenant_id", "signal_id"]),  # FR-1 idempotency
        ("mmm_actor_preferences", ["tenant_id", "actor_id"]),
        ("mmm_receipts", ["status", "updated_at"]),  # outbox sweep
    ],
)
def test_indexes_exist_in_the_database(table, columns):
    assert columns in _db_indexes(table).values(), _db_indexes(table)


@pytest.mark.django_db
def test_legal_hold_where_retention_applies():
    for label in ("decisions.Decision", "decisions.Outcome", "decisions.Signal", "receipts.Receipt"):
        field = apps.get_model(label)._meta.get_field("legal_hold")
        assert field.default is False


@pytest.mark.django_db(transaction=True)
def test_signal_is_unique_per_tenant_and_signal_id():
    SignalFactory(signal_id="delivery-1")
    SignalFactory(signal_id="delivery-1", tenant_id="tenant-b")  # another tenant: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        SignalFactory(signal_id="delivery-1")
    assert Signal.objects.filter(signal_id="delivery-1").count() == 2


@pytest.mark.django_db(transaction=True)
def test_database_refuses_multiplier_without_consent():
    decision = DecisionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Action.objects.create(
            tenant_id="tenant-a", decision=decision, type="multiplier", requires_consent=False
        )
    Action.objects.create(tenant_id="tenant-a", decision=decision, type="multiplier", requires_consent=True)


@pytest.mark.django_db(transaction=True)
def test_database_refuses_same_person_for_both_approvals():
    action = ActionFactory(type="multiplier", requires_consent=True, requires_dual_channel=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        DualChannelApproval.objects.create(
            tenant_id="tenant-a",
            action=action,
            decision=action.decision,
            actor_id="dev-1",
            approver_id="dev-1",
        )
    approval = DualChannelApproval.objects.create(
        tenant_id="tenant-a", action=action, decision=action.decision, actor_id="dev-1", approver_id="lead-2"
    )
    assert approval.status == "pending"


@pytest.mark.django_db(transaction=True)
def test_quiet_hours_out_of_range_refused_by_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        TenantPolicyFactory(quiet_hours_start=24)


@pytest.mark.django_db(transaction=True)
def test_playbook_version_numbers_unique_per_playbook():
    playbook = PlaybookFactory()
    PlaybookVersionFactory(playbook=playbook, version=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlaybookVersionFactory(playbook=playbook, version=1)
    PlaybookVersionFactory(playbook=playbook, version=2)
