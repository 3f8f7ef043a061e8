"""FR-9: concurrent outcomes never lose a posterior count (atomic ``F()`` updates, committed rows)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from experiments.bandit_services import bandit_reward
from experiments.models import BanditArm, Experiment
from mmm_project.residency import tenant_atomic

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_rewards_are_all_counted():
    experiment = Experiment.objects.create(
        tenant_id="tenant-a", name="b", type="bandit", variants=[{"name": "control"}, {"name": "b"}]
    )
    BanditArm.objects.create(tenant_id="tenant-a", experiment=experiment, variant="b")

    def reward(n: int) -> int:
        try:
            moved = 0
            for i in range(25):
                with tenant_atomic():
                    result = "accepted" if (n + i) % 2 else "ignored"
                    moved += bandit_reward(
                        tenant_id="tenant-a", experiment_id=experiment.id, variant="b", result=result
                    )
            return moved
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        moved = sum(pool.map(reward, range(8)))
    arm = BanditArm.objects.get(experiment=experiment, variant="b")
    assert moved == 200
    assert (arm.successes, arm.failures) == (100, 100)
    assert (arm.alpha, arm.beta) == (101, 101)
