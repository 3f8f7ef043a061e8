"""FR-9 with data residency (NFR-3, NFR-5): a tenant's bandit posteriors live in its region only."""

from __future__ import annotations

import pytest

from experiments.models import BanditArm
from mmm_project.residency import tenant_context
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.residency.conftest import BOTH, EU_TENANT, needs_two_regions

pytestmark = [needs_two_regions, pytest.mark.django_db(databases=BOTH, transaction=True)]


def test_a_bandit_learns_in_its_tenants_region_only(client_for, rows):
    document = mirror_playbook()
    with tenant_context(EU_TENANT):
        TenantPolicyFactory(tenant_id=EU_TENANT, quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
        playbook = publish_playbook(document, tenant_id=EU_TENANT)
    admin = client_for(tenant_id=EU_TENANT, actor_id="lead", roles=["tenant_admin"])
    variant = [{**document["actions"][0], "title": "Another wording"}]
    created = admin.post(
        "/v1/mmm/experiments",
        {
            "name": "wording",
            "type": "bandit",
            "playbook_id": str(playbook.id),
            "variants": [{"name": "control"}, {"name": "other", "actions": variant}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    experiment_id = created.json()["experiment_id"]
    assert admin.post(f"/v1/mmm/experiments/{experiment_id}/activate").status_code == 200
    dev = client_for(tenant_id=EU_TENANT, actor_id="dev-1")
    body = {
        "tenant_id": EU_TENANT,
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {
            "signal_id": "s-1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    decision = dev.post("/v1/mmm/decide", body, format="json").json()["decision"]
    assert decision["actions"], decision
    outcome = dev.post(
        f"/v1/mmm/decisions/{decision['decision_id']}/outcomes",
        {"action_id": decision["actions"][0]["action_id"], "result": "accepted"},
        format="json",
    )
    assert outcome.status_code == 202, outcome.content
    assert rows("eu", BanditArm._meta.db_table, EU_TENANT) == 2
    assert rows("default", BanditArm._meta.db_table, EU_TENANT) == 0
    with tenant_context(EU_TENANT):
        arms = {a.variant: a.successes for a in BanditArm.objects.for_tenant(EU_TENANT)}
    assert sorted(arms.values()) == [0, 1]
    posterior = admin.get(f"/v1/mmm/experiments/{experiment_id}").json()["results"]
    assert sum(v["posterior"]["successes"] for v in posterior.values()) == 1
