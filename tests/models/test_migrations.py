"""Upgrading an existing database: the models match the migrations, and a database migrated to the
state recorded before the layout change (models split into ``decisions/models/``, ``intake/``,
``delivery/``) needs only the migrations written since, its rows read back through today's models."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.utils import timezone

from decisions.models import Action, Decision, Delivery, Signal

# The migration state of every app when the decisions app was split into rooms.
RECORDED = [
    ("decisions", "0006_llm_enrichment"),
    ("experiments", "0001_initial"),
    ("playbooks", "0002_trigger_index"),
    ("preferences", "0002_dual_channel_tags"),
    ("receipts", "0001_initial"),
]
# Migrations written since, each adding to the schema or naming models (none moves a model).
ADDED_SINCE = [
    ("decisions", "0007_signal_claim"),
    ("decisions", "0008_outbox_backoff"),
    ("decisions", "0009_webhook_routes_per_tenant"),
    ("decisions", "0010_actor_deletion"),
    ("decisions", "0011_admin_names"),
    ("decisions", "0012_signal_payload_minimised"),
    ("decisions", "0013_policy_overrides"),
    ("decisions", "0014_feedback_results"),
    ("decisions", "0015_signal_repo_ts_index"),
    ("decisions", "0016_action_route_reason"),
    ("decisions", "0017_delivery_index_lz4"),
    ("decisions", "0018_outbox_partial_indexes"),
    ("experiments", "0002_bandit"),
    ("playbooks", "0003_playbookversion_routing"),
    ("preferences", "0003_llm_policy"),
    ("preferences", "0004_policy_override_windows"),
    ("preferences", "0005_muted_playbooks"),
    ("receipts", "0002_outbox_backoff"),
    ("receipts", "0003_actor_keys"),
    ("receipts", "0004_actor_deletion"),
    ("receipts", "0005_receipt_ledger"),
    ("receipts", "0006_outbox_partial_indexes"),
]


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    changes = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps)).changes(
        graph=loader.graph
    )
    assert changes == {}


@pytest.mark.django_db(transaction=True)
def test_a_database_at_the_recorded_state_upgrades_with_only_the_later_migrations():
    # given a database at the recorded state, with rows written through that state's models
    executor = MigrationExecutor(connection)
    executor.migrate(RECORDED)
    old = executor.loader.project_state(RECORDED).apps
    now = timezone.now()
    signal = old.get_model("decisions", "Signal").objects.create(
        tenant_id="t",
        signal_id="s-1",
        actor_id="a",
        source="ci",
        event_type="ci.failed",
        ts=now,
        payload={"sender": {"email": "a@example.com"}, "check_name": "lint"},
    )
    decision = old.get_model("decisions", "Decision").objects.create(
        tenant_id="t", actor_id="a", signal_id=signal.pk
    )
    action = old.get_model("decisions", "Action").objects.create(
        tenant_id="t", decision_id=decision.pk, type="mirror", surfaces=["ide"], payload={"title": "x"}
    )
    old.get_model("decisions", "Delivery").objects.create(tenant_id="t", action_id=action.pk, surface="ide")
    # when the current code migrates it
    executor = MigrationExecutor(connection)
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] in dict(RECORDED)]
    plan = executor.migration_plan(leaves)
    call_command("migrate", verbosity=0)
    # then only the later migrations were applied, and today's models read the rows and relations
    assert sorted((m.app_label, m.name) for m, _ in plan) == ADDED_SINCE
    assert Decision.objects.get(pk=decision.pk).signal == Signal.objects.get(signal_id="s-1")
    assert Signal.objects.get(signal_id="s-1").payload == {"check_name": "lint"}  # 0012: minimised
    assert Action.objects.get(pk=action.pk).deliveries.get().surface == "ide"
    assert isinstance(Delivery.objects.get().id, uuid.UUID)
