"""Concurrent decides cannot both take the last quota slot (FR-7, NFR-2), on real Redis."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from decisions.fatigue_store import RedisFatigueStore, fatigue_store
from decisions.models import Action, Decision
from decisions.services.decide import decision_create
from mmm_project.auth.principal import Principal
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL not set (.ci/run sets it)"),
]

PARALLEL = 20
QUOTA = 3


def _decide(index: int) -> int:
    principal = Principal(actor_id="actor-1", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    request = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {
            "signal_id": f"parallel-{index}",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    try:
        return decision_create(principal=principal, data=request).decision.actions.count()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_20_parallel_decides_against_a_quota_of_3_deliver_exactly_3():
    assert isinstance(fatigue_store(), RedisFatigueStore)
    TenantPolicyFactory(
        tenant_id="tenant-a",
        max_actions_per_hour=QUOTA,
        max_actions_per_day=QUOTA,
        cooldown_minutes=0,
        quiet_hours_start=0,
        quiet_hours_end=0,
    )
    publish_playbook(mirror_playbook())
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        delivered = list(pool.map(_decide, range(PARALLEL)))
    assert sum(delivered) == QUOTA
    assert Action.objects.count() == QUOTA
    assert Decision.objects.count() == PARALLEL
    reasons = [s["reason"] for d in Decision.objects.all() for s in d.suppressed_actions]
    assert len(reasons) == PARALLEL - QUOTA
    assert set(reasons) <= {"fatigue.quota_actor_hour", "fatigue.quota_actor_day"}
