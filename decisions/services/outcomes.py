"""Outcomes (spec 11.3, FR-12): how the actor or the system responded to an action.

An action a bandit experiment shaped (FR-9) rewards its variant's posterior in the outcome's
transaction: the first ``accepted`` (success), ``dismissed`` or ``ignored`` (failure) outcome of
the action counts, later ones do not (one reward per action); ``shown`` alone is no reward."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from decisions.delivery.escalation import escalation_acknowledge
from decisions.models import Action, Decision, Outcome
from experiments.bandit import REWARD_RESULTS
from experiments.bandit_services import bandit_reward
from experiments.models import ExperimentType
from mmm_project import metrics
from mmm_project.auth.principal import SERVICE_SCOPES, Principal
from mmm_project.errors import ApplicationError, NotFound
from mmm_project.events import publish_after_commit
from mmm_project.privacy.secret_scan import redact_secrets
from mmm_project.residency import tenant_atomic
from mmm_project.tenancy import parse_uuid
from mmm_project.vocabulary import OutcomeResult
from receipts.documents import outcome_body
from receipts.services import receipt_create

OUTCOMES_FOR_ANY_ACTOR = SERVICE_SCOPES[0]  # service principals reporting for any actor


def outcome_create(
    *, principal: Principal, decision_id: str, data: dict[str, Any], now: datetime | None = None
) -> Outcome:
    """Record how the actor responded to one action (spec 11.3), with its signed outcome receipt.

    Only the decision's actor reports its outcomes, or a service principal holding the scope
    ``mmm.outcome.any`` (an Edge Agent or CI reporting ``shown``/``ignored``): outcomes feed metrics
    and experiment results, so nobody reports in another actor's name. The outcome is always
    recorded for the decision's actor.

    Raises:
        NotFound: no such decision for the caller's tenant (another tenant's is 404 too).
        ApplicationError: ``FORBIDDEN`` (403) for another actor without ``mmm.outcome.any``;
            ``VALIDATION_ERROR`` (400, field ``action_id``) when the action is not one of this
            decision's, (field ``actor_id``) when it names someone other than the decision's actor.
    """
    now = now or timezone.now()
    tenant_id = principal.tenant_id
    decision = Decision.objects.for_tenant(tenant_id).filter(pk=parse_uuid(decision_id)).first()
    if decision is None:
        raise NotFound("Decision")
    if principal.actor_id != decision.actor_id and not principal.has_scope(OUTCOMES_FOR_ANY_ACTOR):
        raise ApplicationError(
            "FORBIDDEN", "Only the decision's actor may report its outcomes.", status_code=403
        )
    if data.get("actor_id", decision.actor_id) != decision.actor_id:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "The outcome is the decision's actor's.",
            fields={"actor_id": ["must be the decision's actor"]},
        )
    action = (
        decision.actions.select_related("playbook_version", "experiment").filter(pk=data["action_id"]).first()
    )
    if action is None:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "The action is not part of this decision.",
            fields={"action_id": ["is not an action of this decision"]},
        )
    result = data["result"]
    times = {
        OutcomeResult.SHOWN: {"shown_at": now},
        OutcomeResult.FAILED: {"completed_at": now},
    }.get(result, {"interacted_at": now})
    with tenant_atomic():
        outcome = Outcome.objects.create(
            tenant_id=tenant_id,
            decision=decision,
            action=action,
            action_type=action.type,
            actor_id=decision.actor_id,
            result=result,
            reason=redact_secrets(data.get("reason", ""), where="outcome"),
            created_at=now,
            **times,
        )
        _reward_bandit(action, outcome)
        receipt_create(
            build=lambda rid: outcome_body(receipt_id=rid, outcome=outcome, decision=decision, now=now)
        )
        escalation_acknowledge(action=action, decision=decision, result=result)  # FR-3
        publish_after_commit(
            topic="mmm.outcomes",
            tenant_id=tenant_id,
            event_type="outcome.recorded",
            payload={
                "outcome_id": str(outcome.id),
                "decision_id": str(decision.id),
                "action_id": str(action.id),
                "action_type": action.type,
                "result": result,
            },
        )
    metrics.OUTCOMES.labels(tenant_id, result).inc()
    if result == OutcomeResult.ACCEPTED:
        metrics.ACTIONS_ACCEPTED.labels(tenant_id, action.type).inc()
    return outcome


def _reward_bandit(action: Action, outcome: Outcome) -> None:
    """FR-9: the first reward outcome of a bandit-shaped action moves its variant's posterior.
    The action row is locked so two concurrent outcomes cannot both count as the first."""
    experiment = action.experiment
    if experiment is None or experiment.type != ExperimentType.BANDIT or outcome.result not in REWARD_RESULTS:
        return
    Action.objects.for_tenant(outcome.tenant_id).select_for_update().filter(pk=action.pk).values_list(
        "pk", flat=True
    ).first()
    earlier = action.outcomes.filter(result__in=REWARD_RESULTS).exclude(pk=outcome.pk).exists()
    if not earlier:
        bandit_reward(
            tenant_id=outcome.tenant_id,
            experiment_id=experiment.id,
            variant=action.variant,
            result=outcome.result,
        )
