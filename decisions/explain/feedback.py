"""An actor's feedback on an action (issue 15): less like this, not relevant, helpful.

Feedback is an outcome of the action (``Outcome.result`` = the feedback) with its signed outcome
receipt, like any reported result (spec 11.3). ``less_like_this`` also changes the actor's
preferences: it mutes the action's playbook for ``duration_days`` (default) or opts the actor out of
the action's type, so the preference gate suppresses such actions on the next decide. Metrics
count feedback per tenant and result only (NFR-4: no actor label, no individual scoring).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from decisions.delivery.escalation import escalation_acknowledge
from decisions.models import Action, Outcome
from mmm_project import metrics
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from mmm_project.events import publish_after_commit
from mmm_project.residency import tenant_atomic
from mmm_project.tenancy import get_for_tenant
from mmm_project.vocabulary import Feedback
from preferences.services import actor_action_type_opt_out, actor_playbook_mute
from receipts.documents import outcome_body
from receipts.services import receipt_create


@dataclass(frozen=True)
class FeedbackResult:
    outcome: Outcome
    receipt_id: str
    muted_playbook_id: str | None = None
    muted_until: datetime | None = None
    opted_out_type: str | None = None


def action_feedback_create(
    *,
    principal: Principal,
    action_id: str,
    feedback: str,
    scope: str = "playbook",
    duration_days: int = 30,
    now: datetime | None = None,
) -> FeedbackResult:
    """Record the actor's ``feedback`` (a ``Feedback`` value) on one of their actions.

    ``scope`` (``less_like_this`` only): ``playbook`` mutes the action's playbook for the actor
    until now + ``duration_days`` (1-365); ``action_type`` opts the actor out of the action's type.
    Everything is written in one transaction: outcome, outcome receipt, preferences (with their
    ``admin_config`` receipt).

    Raises:
        NotFound: no such action in the caller's tenant (another tenant's too).
        ApplicationError: ``FORBIDDEN`` (403) when the caller is not the action's actor (feedback is
            the actor's own, admins and services included); ``VALIDATION_ERROR`` (field ``scope``)
            muting the playbook of an action that has none.
    """
    now = now or timezone.now()
    queryset = Action.objects.select_related("decision", "playbook_version")
    action = get_for_tenant(queryset, tenant_id=principal.tenant_id, pk=action_id, resource="Action")
    decision = action.decision
    if principal.actor_id != decision.actor_id:
        raise ApplicationError(
            "FORBIDDEN", "Only the action's actor may give feedback on it.", status_code=403
        )
    muting = feedback == Feedback.LESS_LIKE_THIS
    if muting and scope == "playbook" and action.playbook_version is None:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "The action has no playbook to mute.",
            fields={"scope": ["this action has no playbook; use action_type"]},
        )
    result: dict[str, object] = {}
    with tenant_atomic():
        outcome = Outcome.objects.create(
            tenant_id=decision.tenant_id,
            decision=decision,
            action=action,
            action_type=action.type,
            actor_id=decision.actor_id,
            result=feedback,
            interacted_at=now,
            created_at=now,
        )
        receipt = receipt_create(
            build=lambda rid: outcome_body(receipt_id=rid, outcome=outcome, decision=decision, now=now)
        )
        escalation_acknowledge(action=action, decision=decision, result=feedback)  # FR-3
        if muting and scope == "playbook":
            until = now + timedelta(days=duration_days)
            playbook_id = str(action.playbook_version.playbook_id)
            actor_playbook_mute(
                tenant_id=decision.tenant_id,
                actor_id=decision.actor_id,
                playbook_id=playbook_id,
                until=until,
                changed_by=principal.actor_id,
            )
            result = {"muted_playbook_id": playbook_id, "muted_until": until}
        elif muting:
            actor_action_type_opt_out(
                tenant_id=decision.tenant_id,
                actor_id=decision.actor_id,
                action_type=action.type,
                changed_by=principal.actor_id,
            )
            result = {"opted_out_type": action.type}
        publish_after_commit(
            topic="mmm.outcomes",
            tenant_id=decision.tenant_id,
            event_type="outcome.recorded",
            payload={
                "outcome_id": str(outcome.id),
                "decision_id": str(decision.id),
                "action_id": str(action.id),
                "action_type": action.type,
                "result": feedback,
            },
        )
    metrics.OUTCOMES.labels(decision.tenant_id, feedback).inc()
    return FeedbackResult(outcome=outcome, receipt_id=str(receipt.receipt_id), **result)
