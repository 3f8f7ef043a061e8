"""Experiment writes (spec 11.6, FR-13, FR-9): create, update, activate, deactivate, with admin
receipts. A ``bandit`` experiment (FR-9) keeps one posterior per variant (``bandit_arms_sync``).

An experiment belongs to one playbook. Each variant either keeps the playbook's published
behaviour, points at another version of it (``playbook_version``), or carries its own action
templates (``actions``, validated like a playbook, Mirror lint included). Variants only change
what is proposed; the tenant policy gates every action afterwards, so an experiment can never
enable an action type or surface the policy disables.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from experiments.bandit_services import bandit_arms_sync
from experiments.models import Experiment, ExperimentStatus, ExperimentType
from mmm_project.errors import ApplicationError
from mmm_project.residency import tenant_atomic
from playbooks.models import Playbook
from playbooks.selectors import playbook_get
from playbooks.spec import validate_playbook
from receipts.services import AdminAudit

EDITABLE = ("name", "description", "type", "assignment_scope", "variants", "control_variant")


def _invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError("VALIDATION_ERROR", "The experiment is invalid; see fields.", fields=fields)


def _check_variants(
    playbook: Playbook, variants: list[dict[str, Any]], control: str, kind: str = ExperimentType.AB
) -> None:
    """Cross-checks the serializer cannot make: versions exist, templates validate, control named,
    an A/B experiment's variants weighted (a bandit's need no weight: it learns the shares)."""
    problems: dict[str, list[str]] = defaultdict(list)
    names = [v["name"] for v in variants]
    if len(set(names)) != len(names):
        problems["variants"].append("variant names must be unique")
    if control not in names:
        problems["control_variant"].append("must name one of the variants")
    latest = playbook.versions.get(version=playbook.latest_version)
    for index, variant in enumerate(variants):
        path = f"variants[{index}]"
        if kind == ExperimentType.AB and "weight" not in variant:
            problems[f"{path}.weight"].append("required for an A/B experiment")
        if "playbook_version" in variant and "actions" in variant:
            problems[path].append("give playbook_version or actions, not both")
        if (
            "playbook_version" in variant
            and not playbook.versions.filter(version=variant["playbook_version"]).exists()
        ):
            problems[f"{path}.playbook_version"].append("no such version of the playbook")
        if "actions" in variant:
            document = {"name": playbook.name, "triggers": latest.triggers, "actions": variant["actions"]}
            _, found = validate_playbook(document)
            for problem in found:
                problems[f"{path}.{problem.field}"].append(problem.message)
    if problems:
        raise _invalid(dict(problems))


def experiment_state(experiment: Experiment) -> dict[str, Any]:
    return {
        "name": experiment.name,
        "description": experiment.description,
        "status": experiment.status,
        "type": experiment.type,
        "playbook_id": str(experiment.playbook_id) if experiment.playbook_id else None,
        "assignment_scope": experiment.assignment_scope,
        "variants": experiment.variants,
        "control_variant": experiment.control_variant,
    }


EXPERIMENT_AUDIT = AdminAudit("experiment", experiment_state)


def experiment_create(*, tenant_id: str, data: dict[str, Any], actor_id: str) -> Experiment:
    """Create a draft experiment on one of the tenant's playbooks.

    Raises:
        NotFound: the playbook is not the tenant's.
        ApplicationError: ``VALIDATION_ERROR`` naming each bad field; ``CONFLICT`` for a taken name.
    """
    playbook = playbook_get(tenant_id=tenant_id, playbook_id=data["playbook_id"])
    control = data.get("control_variant", "control")
    kind = data.get("type", ExperimentType.AB)
    _check_variants(playbook, data["variants"], control, kind)
    if Experiment.objects.for_tenant(tenant_id).filter(name=data["name"]).exists():
        raise ApplicationError(
            "CONFLICT",
            "An experiment with this name exists.",
            status_code=409,
            fields={"name": ["already in use"]},
        )
    with tenant_atomic():
        experiment = Experiment.objects.create(
            tenant_id=tenant_id,
            playbook=playbook,
            name=data["name"],
            description=data.get("description", ""),
            type=kind,
            assignment_scope=data.get("assignment_scope", "actor"),
            variants=data["variants"],
            control_variant=control,
        )
        bandit_arms_sync(experiment=experiment)
        EXPERIMENT_AUDIT.record(experiment, actor_id=actor_id, operation="create", before=None)
    return experiment


def experiment_update(*, experiment: Experiment, data: dict[str, Any], actor_id: str) -> Experiment:
    """Change an experiment that is not running (assignments must stay stable while active).

    A bandit's posteriors of the variants it keeps are kept; a removed variant's are dropped, and
    changing the type to ``ab`` drops them all (FR-9).

    Raises:
        ApplicationError: ``INVALID_STATE`` (409) while active; ``VALIDATION_ERROR`` naming fields.
    """
    with tenant_atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if locked.status == ExperimentStatus.ACTIVE:
            raise ApplicationError(
                "INVALID_STATE", "Deactivate the experiment before changing it.", status_code=409
            )
        before = experiment_state(locked)
        for field in EDITABLE:
            if field in data:
                setattr(locked, field, data[field])
        _check_variants(locked.playbook, locked.variants, locked.control_variant, locked.type)
        locked.save()
        bandit_arms_sync(experiment=locked)
        EXPERIMENT_AUDIT.record(locked, actor_id=actor_id, operation="update", before=before)
    return locked


def experiment_activate(*, experiment: Experiment, actor_id: str) -> Experiment:
    """Start assigning; at most one active experiment per playbook (409 otherwise)."""
    with tenant_atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        others = Experiment.objects.filter(playbook_id=locked.playbook_id, status=ExperimentStatus.ACTIVE)
        if others.exclude(pk=locked.pk).exists():
            raise ApplicationError(
                "CONFLICT", "Another experiment on this playbook is active.", status_code=409
            )
        before = experiment_state(locked)
        locked.status, locked.activated_at = ExperimentStatus.ACTIVE, timezone.now()
        locked.save()
        EXPERIMENT_AUDIT.record(locked, actor_id=actor_id, operation="activate", before=before)
    return locked


def experiment_deactivate(*, experiment: Experiment, actor_id: str) -> Experiment:
    """Stop assigning; decisions go back to the playbook's published behaviour."""
    with tenant_atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        before = experiment_state(locked)
        locked.status, locked.deactivated_at = ExperimentStatus.INACTIVE, timezone.now()
        locked.save()
        EXPERIMENT_AUDIT.record(locked, actor_id=actor_id, operation="deactivate", before=before)
    return locked
