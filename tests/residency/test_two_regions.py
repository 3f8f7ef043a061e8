"""A tenant pinned to a region has its data only in that region's database (NFR-3), through the
HTTP API, the worker path and management commands; cross-region access fails or finds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from decisions.intake import services as intake_services
from decisions.models import Action, Decision, Signal
from decisions.privacy.models import ActorDeletionRequest
from mmm_project.residency import (
    CrossRegionWrite,
    NoRegionContext,
    region_context,
    tenant_atomic,
    tenant_context,
)
from playbooks.models import Playbook
from receipts.models import Receipt
from tasks.ingest import signals_sweep_task
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.residency.conftest import BOTH, DEFAULT_TENANT, EU_TENANT, needs_two_regions

pytestmark = [needs_two_regions, pytest.mark.django_db(databases=BOTH, transaction=True)]

TABLES = {
    "signals": Signal._meta.db_table,
    "decisions": Decision._meta.db_table,
    "actions": Action._meta.db_table,
    "receipts": Receipt._meta.db_table,
}


def _tenant_ready(tenant_id: str) -> None:
    with tenant_context(tenant_id):
        TenantPolicyFactory(tenant_id=tenant_id, quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
        publish_playbook(mirror_playbook(), tenant_id=tenant_id)


def _decide_body(tenant_id: str, signal_id: str = "sig-1") -> dict:
    return {
        "tenant_id": tenant_id,
        "context": {"repo_id": "org/app", "branch": "main", "file_path": "src/app.py"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }


def test_migrations_create_the_tenant_tables_in_every_region_and_the_rest_in_default_only():
    eu_tables = set(connections["eu"].introspection.table_names())
    default_tables = set(connections["default"].introspection.table_names())
    assert set(TABLES.values()) <= eu_tables and set(TABLES.values()) <= default_tables
    assert "auth_user" in default_tables and "django_session" in default_tables
    assert not {"auth_user", "django_session", "django_admin_log", "django_content_type"} & eu_tables
    applied = MigrationRecorder(connections["eu"]).applied_migrations()
    for app in ("decisions", "playbooks", "preferences", "experiments", "receipts"):
        assert any(label == app for label, _ in applied), app


def test_a_decide_over_http_lands_in_the_tenants_region_only(client_for, rows):
    # given a tenant pinned to eu and one in the default region, each with a playbook
    _tenant_ready(EU_TENANT)
    _tenant_ready(DEFAULT_TENANT)
    # when each decides through the API
    for tenant in (EU_TENANT, DEFAULT_TENANT):
        response = client_for(tenant_id=tenant, actor_id="actor-1").post(
            "/v1/mmm/decide", _decide_body(tenant), format="json"
        )
        assert response.status_code == 200, response.content
        assert len(response.json()["decision"]["actions"]) == 1
    # then, read straight from each database, each tenant's rows are in its region only
    for table in TABLES.values():
        assert rows("eu", table, EU_TENANT) >= 1, table
        assert rows("default", table, EU_TENANT) == 0, table
        assert rows("default", table, DEFAULT_TENANT) >= 1, table
        assert rows("eu", table, DEFAULT_TENANT) == 0, table
    assert rows("eu", Playbook._meta.db_table, EU_TENANT) == 1
    assert rows("default", Playbook._meta.db_table, EU_TENANT) == 0


def test_another_regions_data_is_not_found_even_by_an_admin_of_another_tenant(client_for):
    _tenant_ready(EU_TENANT)
    eu = client_for(tenant_id=EU_TENANT, actor_id="actor-1")
    decision_id = eu.post("/v1/mmm/decide", _decide_body(EU_TENANT), format="json").json()["decision"][
        "decision_id"
    ]
    assert eu.get(f"/v1/mmm/decisions/{decision_id}").status_code == 200
    admin = client_for(tenant_id=DEFAULT_TENANT, actor_id="admin-1", roles=["tenant_admin", "mmm_admin"])
    response = admin.get(f"/v1/mmm/decisions/{decision_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    # and the other tenant's receipts list shows none of the eu tenant's receipts
    listed = admin.get("/v1/mmm/receipts")
    assert listed.status_code == 200
    assert all(item["tenant_id"] == DEFAULT_TENANT for item in listed.json()["receipts"])


def _ingest(client, signal_id: str):
    envelope = {
        **_decide_body(EU_TENANT, signal_id)["signal"],
        "tenant_id": EU_TENANT,
        "actor_id": "actor-1",
        "ts": timezone.now().isoformat(),
    }
    return client.post("/v1/mmm/signals", envelope, format="json")


def test_ingested_signals_are_decided_by_the_task_and_the_sweep_in_their_region(
    client_for, rows, settings, monkeypatch
):
    # given the eu tenant ready (tasks run eagerly: the task body is the worker's)
    _tenant_ready(EU_TENANT)
    settings.INGEST_SWEEP_AGE_SECONDS = 0
    client = client_for(tenant_id=EU_TENANT, actor_id="actor-1")
    # when a signal is accepted, its ingest.decide task decides it after commit
    assert _ingest(client, "sig-task").status_code == 202
    assert rows("eu", TABLES["decisions"], EU_TENANT) == 1
    # and one whose task could not be queued (broker down) waits for the beat sweep, which runs
    # with no tenant in context and goes region by region
    monkeypatch.setattr(intake_services, "_enqueue_decisions", lambda pks, **kwargs: False)
    assert _ingest(client, "sig-sweep").status_code == 202
    monkeypatch.undo()
    assert rows("eu", TABLES["decisions"], EU_TENANT) == 1
    assert signals_sweep_task() == 1
    # then both decisions and their actions are in eu, nothing of the tenant in default
    assert rows("eu", TABLES["signals"], EU_TENANT) == 2
    assert rows("eu", TABLES["decisions"], EU_TENANT) == 2
    assert rows("eu", TABLES["actions"], EU_TENANT) == 2
    for table in TABLES.values():
        assert rows("default", table, EU_TENANT) == 0
    with tenant_context(EU_TENANT):
        assert set(Signal.objects.values_list("status", flat=True)) == {"decided"}


def test_management_commands_with_tenant_work_in_its_region(tmp_path, rows):
    playbook = tmp_path / "ci.yaml"
    playbook.write_text(
        "name: ci-mirror\ntriggers:\n  - event_type: ci.check_run.failed\nactions:\n"
        "  - type: mirror\n    surfaces: [ide]\n    title: CI failed\n    body: The run failed.\n"
    )
    call_command("load_playbooks", str(playbook), "--tenant", EU_TENANT, "--publish")
    assert rows("eu", Playbook._meta.db_table, EU_TENANT) == 1
    assert rows("default", Playbook._meta.db_table, EU_TENANT) == 0
    call_command("delete_actor", "actor-1", "--tenant", EU_TENANT)
    assert rows("eu", ActorDeletionRequest._meta.db_table, EU_TENANT) == 1
    assert rows("default", ActorDeletionRequest._meta.db_table, EU_TENANT) == 0
    # the deletion's receipt too
    assert rows("eu", TABLES["receipts"], EU_TENANT) >= 1
    assert rows("default", TABLES["receipts"], EU_TENANT) == 0


def test_tenant_scoped_queries_without_a_tenant_in_context_fail_loudly():
    with pytest.raises(NoRegionContext, match="no tenant in context"):
        Decision.objects.count()
    with pytest.raises(NoRegionContext):
        with tenant_atomic():
            pass
    with pytest.raises(NoRegionContext):
        call_command("delete_actor", "actor-1", "--tenant", "")
    # users, sessions and the admin log are not tenant data: always the default database
    from django.contrib.auth.models import User

    assert User.objects.count() == 0


def test_a_row_of_a_tenant_pinned_elsewhere_is_never_written_to_this_region(rows):
    with tenant_context(DEFAULT_TENANT), pytest.raises(CrossRegionWrite, match="'eu'"):
        Playbook.objects.create(tenant_id=EU_TENANT, name="x")
    with region_context("default"), pytest.raises(CrossRegionWrite):
        TenantPolicyFactory(tenant_id=EU_TENANT)
    assert rows("default", Playbook._meta.db_table, EU_TENANT) == 0


def test_readiness_checks_every_regions_database(api_client):
    response = api_client.get("/v1/mmm/ready")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["database_eu"] == "ok"
