"""Reads of bandit posteriors (FR-9): for the decide path (cached per process) and for results."""

from __future__ import annotations

from typing import Any

from experiments.bandit import Posterior
from experiments.models import BanditArm, Experiment
from mmm_project.caching import LocalCache

# Outcomes move posteriors often, so they are not part of the tenant-config generation (bumping it
# would drop the cached playbooks too): a process reuses what it read for at most this many
# seconds, one query per bandit experiment per process per interval, none per decide otherwise.
POSTERIOR_MAX_AGE_SECONDS = 5.0
_POSTERIORS = LocalCache(max_entries=1024, max_age=POSTERIOR_MAX_AGE_SECONDS)


def _load(experiment: Experiment) -> tuple[Posterior, ...]:
    arms = {
        variant: (successes, failures)
        for variant, successes, failures in BanditArm.objects.for_tenant(experiment.tenant_id)
        .filter(experiment_id=experiment.id)
        .values_list("variant", "successes", "failures")
    }
    return tuple(
        Posterior(v["name"], 1 + arms.get(v["name"], (0, 0))[0], 1 + arms.get(v["name"], (0, 0))[1])
        for v in experiment.variants
    )


def bandit_posteriors(*, experiment: Experiment, generation: str) -> tuple[Posterior, ...]:
    """The Beta posterior of each of the experiment's variants, in variant order (Beta(1, 1) for a
    variant with no arm yet). Cached per process under the tenant-config ``generation`` (an edit
    of the experiment reloads at once) for at most ``POSTERIOR_MAX_AGE_SECONDS``."""
    return _POSTERIORS.get_or_load(
        (experiment.tenant_id, str(experiment.id)), generation, lambda: _load(experiment)
    )


def bandit_results(*, experiment: Experiment, pulls: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per variant ``{"alpha", "beta", "mean", "pulls", "successes", "failures"}``, read now.

    ``pulls``: decisions that delivered an action of the variant (``experiment_results``).
    Aggregates of the tenant's responses only (FR-9, NFR-4): no actor appears.
    """
    return {
        p.variant: {
            "alpha": p.alpha,
            "beta": p.beta,
            "mean": round(p.mean, 6),
            "pulls": pulls.get(p.variant, 0),
            "successes": p.alpha - 1,
            "failures": p.beta - 1,
        }
        for p in _load(experiment)
    }
