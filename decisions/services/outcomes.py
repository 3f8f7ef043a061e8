"""Outcomes (spec 11.3, FR-12): how the actor or the system responded to an action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from decisions.models import Decision, Outcome
from mmm_project import metrics
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError, NotFound
from mmm_project.events import publish_after_commit
from mmm_project.tenancy import parse_uuid
from mmm_project.vocabulary import OutcomeResult
from receipts.documents import outcome_body
from receipts.services import receipt_create


def outcome_create(
    *, principal: Principal, decision_id: str, data: dict[str, Any], now: datetime | None = None
) -> Outcome:
    """Record how the actor responded to one action (spec 11.3), with its signed outcome receipt.

    Raises:
        NotFound: no such decision for the caller's tenant (another tenant's is 404 too).
        ApplicationError: ``VALIDATION_ERROR`` (400, field ``action_id``) when the action is not
            one of this decision's.
    """
    now = now or timezone.now()
    tenant_id = principal.tenant_id
    decision = Decision.objects.for_tenant(tenant_id).filter(pk=parse_uuid(decision_id)).first()
    if decision is None:
        raise NotFound("Decision")
    action = decision.actions.filter(pk=data["action_id"]).first()
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
    with transaction.atomic():
        outcome = Outcome.objects.create(
            tenant_id=tenant_id,
            decision=decision,
            action=action,
            action_type=action.type,
            actor_id=data.get("actor_id") or principal.actor_id,
            result=result,
            reason=data.get("reason", ""),
            created_at=now,
            **times,
        )
        receipt_create(
            build=lambda rid: outcome_body(receipt_id=rid, outcome=outcome, decision=decision, now=now)
        )
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
