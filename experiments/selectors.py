"""Reads of experiments, scoped to one tenant."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from django.db.models import Count, QuerySet

from decisions.engine.matching import PlaybookCandidate
from experiments.assignment import assign_variant
from experiments.bandit import thompson_choose
from experiments.bandit_selectors import bandit_posteriors
from experiments.models import Experiment, ExperimentStatus, ExperimentType
from mmm_project.caching import TENANT_CONFIG, LocalCache, generation_get
from mmm_project.tenancy import get_for_tenant
from playbooks.models import PlaybookVersion


def experiment_list(*, tenant_id: str, status: str | None = None) -> QuerySet[Experiment]:
    queryset = Experiment.objects.for_tenant(tenant_id)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by("name")


def experiment_get(*, tenant_id: str, experiment_id: object) -> Experiment:
    """Raises NotFound for unknown ids and other tenants' experiments (404)."""
    return get_for_tenant(
        Experiment.objects.all(), tenant_id=tenant_id, pk=experiment_id, resource="Experiment"
    )


_ACTIVE = LocalCache(max_entries=1024, max_age=60.0)


def active_experiments_by_playbook(*, tenant_id: str, generation: str | None = None) -> dict[str, Experiment]:
    """``{playbook_id: active experiment}`` for the tenant (at most one active per playbook).

    Cached per process while the tenant's configuration generation (``mmm_project.caching``,
    bumped by every experiment write) is ``generation`` (read when None), at most 60 s; the
    experiments returned are shared: read them, never change them.
    """
    if generation is None:
        generation = generation_get(TENANT_CONFIG, tenant_id)

    def load() -> dict[str, Experiment]:
        active = Experiment.objects.for_tenant(tenant_id).filter(
            status=ExperimentStatus.ACTIVE, playbook__isnull=False
        )
        return {str(e.playbook_id): e for e in active}

    return _ACTIVE.get_or_load(tenant_id, generation, load)


def experiment_results(*, experiment: Experiment) -> dict[str, dict[str, object]]:
    """Per-variant aggregates: decisions, actions by type, outcomes by result (no actor detail)."""
    results: dict[str, dict[str, object]] = {
        v["name"]: {"decisions": 0, "actions": 0, "actions_by_type": {}, "outcomes_by_result": {}}
        for v in experiment.variants
    }
    # Through the experiment's reverse relations: experiments sit below decisions (no import).
    actions = experiment.actions.for_tenant(experiment.tenant_id)
    for variant, decisions, count in (
        actions.values_list("variant").annotate(d=Count("decision", distinct=True), n=Count("id")).order_by()
    ):
        entry = results.setdefault(
            variant, {"decisions": 0, "actions": 0, "actions_by_type": {}, "outcomes_by_result": {}}
        )
        entry["decisions"], entry["actions"] = decisions, count
    by_type: dict[str, dict[str, int]] = defaultdict(dict)
    for variant, action_type, count in (
        actions.values_list("variant", "type").annotate(n=Count("id")).order_by()
    ):
        by_type[variant][action_type] = count
    by_result: dict[str, dict[str, int]] = defaultdict(dict)
    for variant, result, count in (
        actions.filter(outcomes__isnull=False)
        .values_list("variant", "outcomes__result")
        .annotate(n=Count("outcomes"))
        .order_by()
    ):
        by_result[variant][result] = count
    for variant, entry in results.items():
        entry["actions_by_type"] = by_type.get(variant, {})
        entry["outcomes_by_result"] = by_result.get(variant, {})
    return results


def variant_actions(experiment: Experiment, variant_name: str) -> tuple[dict[str, Any], ...] | None:
    """The action templates a variant uses instead of the published ones; None keeps them."""
    variant = next((v for v in experiment.variants if v["name"] == variant_name), None)
    if variant is None or variant_name == experiment.control_variant:
        return None
    if "actions" in variant:
        return tuple(variant["actions"])
    if "playbook_version" in variant:
        version = PlaybookVersion.objects.filter(
            playbook_id=experiment.playbook_id, version=variant["playbook_version"]
        ).first()
        return tuple(version.actions) if version else None
    return None


def apply_experiments(
    candidates: list[PlaybookCandidate],
    *,
    tenant_id: str,
    actor_id: str,
    team_id: str,
    seed_key: str = "",
    generation: str | None = None,
) -> tuple[list[PlaybookCandidate], dict[str, dict[str, Any]]]:
    """Assign the actor (or team) to a variant of each matched playbook's active experiment.

    An ``ab`` experiment assigns by weight, the same variant every time. A ``bandit`` one (FR-9)
    draws from its posteriors with a generator seeded by the experiment and ``seed_key`` (the
    decision's signal id); the variant only swaps the playbook's action templates, which then
    pass every policy, preference, quiet-hours and fatigue gate like any other (selection): a
    bandit never adds an action the gates would refuse nor takes more than a quota allows.

    Returns the candidates with variant actions swapped in, and ``{experiment_id: {"playbook_id",
    "variant"}}`` for the decision and its receipt; a bandit's entry adds ``"type": "bandit"``,
    ``"seed"``, ``"posteriors"`` (``{variant: [alpha, beta]}``) and ``"samples"`` (the draws), so
    the choice can be recomputed (``experiments.bandit.thompson_choose``). Reads the cached active
    experiments (and posteriors), and only when something matched.
    """
    if not candidates:
        return candidates, {}
    if generation is None:
        generation = generation_get(TENANT_CONFIG, tenant_id)
    experiments = active_experiments_by_playbook(tenant_id=tenant_id, generation=generation)
    assigned, assignments = [], {}
    for candidate in candidates:
        experiment = experiments.get(candidate.playbook_id)
        if experiment is None:
            assigned.append(candidate)
            continue
        record: dict[str, Any] = {"playbook_id": candidate.playbook_id}
        if experiment.type == ExperimentType.BANDIT:
            posteriors = bandit_posteriors(experiment=experiment, generation=generation)
            variant, drawn = thompson_choose(str(experiment.id), seed_key or actor_id, posteriors)
            record.update(variant=variant, type=ExperimentType.BANDIT.value, **drawn)
        else:
            unit = team_id if experiment.assignment_scope == "team" and team_id else actor_id
            variant = assign_variant(
                str(experiment.id), unit, [(v["name"], float(v["weight"])) for v in experiment.variants]
            )
            record["variant"] = variant
        assignments[str(experiment.id)] = record
        actions = variant_actions(experiment, variant)
        assigned.append(
            replace(
                candidate,
                actions=actions if actions is not None else candidate.actions,
                experiment_id=str(experiment.id),
                variant=variant,
            )
        )
    return assigned, assignments
