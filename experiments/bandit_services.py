"""Writes of bandit posteriors (FR-9): arms follow the experiment's variants; outcomes reward them.

A reward is one atomic ``UPDATE ... SET successes = successes + 1`` (``F()``) on the tenant's own
arm, in the caller's transaction (the outcome's), so concurrent outcomes never lose a count and
the posterior survives restarts (it is a table). Nothing is shared across tenants (NFR-5, spec 9).
"""

from __future__ import annotations

from django.db.models import F

from experiments.bandit import FAILURE_RESULTS, SUCCESS_RESULTS
from experiments.models import BanditArm, Experiment, ExperimentType


def bandit_arms_sync(*, experiment: Experiment) -> None:
    """Give a bandit experiment one arm per variant (Beta(1, 1) for new ones) and drop the arms of
    variants it no longer has; an A/B experiment keeps none. Call inside the writer's transaction."""
    arms = BanditArm.objects.for_tenant(experiment.tenant_id).filter(experiment_id=experiment.id)
    names = [v["name"] for v in experiment.variants] if experiment.type == ExperimentType.BANDIT else []
    arms.exclude(variant__in=names).delete()
    BanditArm.objects.bulk_create(
        [BanditArm(tenant_id=experiment.tenant_id, experiment=experiment, variant=n) for n in names],
        ignore_conflicts=True,
    )


def bandit_reward(*, tenant_id: str, experiment_id: object, variant: str, result: str) -> bool:
    """Count one outcome ``result`` for ``variant``: ``accepted`` a success, ``dismissed`` or
    ``ignored`` a failure, anything else nothing. Returns whether an arm of the tenant moved
    (False for another tenant's experiment, an A/B one, or a variant without an arm)."""
    if result in SUCCESS_RESULTS:
        change = {"successes": F("successes") + 1}
    elif result in FAILURE_RESULTS:
        change = {"failures": F("failures") + 1}
    else:
        return False
    # Only bandit experiments have arms (``bandit_arms_sync``).
    arms = BanditArm.objects.for_tenant(tenant_id).filter(experiment_id=experiment_id, variant=variant)
    return arms.update(**change) == 1
