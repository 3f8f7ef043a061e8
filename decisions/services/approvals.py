"""Consent and dual-channel approval of Multiplier actions (FR-6, IT-MMM-04).

The engine never executes anything: the Edge Agent or CI asks ``action_execution_status``
whether an action may run, and it may only when the actor consented and, where dual-channel
approval is required, a designated approver (another person) approved after the actor.
Every step is locked on the action row and leaves a signed receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from decisions.engine.approvals import InvalidTransition, transition
from decisions.models import Action, ApprovalStatus, DualChannelApproval
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from mmm_project.residency import tenant_atomic
from mmm_project.tenancy import get_for_tenant
from mmm_project.vocabulary import ActionType
from preferences.selectors import tenant_policy_get
from receipts.services import AdminAudit


def _conflict(message: str) -> ApplicationError:
    return ApplicationError("INVALID_STATE", message, status_code=409)


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError("FORBIDDEN", message, status_code=403)


def _locked_action(principal: Principal, action_id: str) -> Action:
    action = get_for_tenant(
        Action.objects.all(), tenant_id=principal.tenant_id, pk=action_id, resource="Action"
    )
    return Action.objects.select_for_update().select_related("decision").get(pk=action.pk)


def _approval_moved(action: Action, event: str) -> DualChannelApproval:
    """The action's approval (created on first use) moved by ``event`` (``decisions.engine.approvals``);
    not saved yet. Raises ``INVALID_STATE`` (409) for a move its state does not allow."""
    approval, _ = DualChannelApproval.objects.get_or_create(
        action=action,
        defaults={
            "tenant_id": action.tenant_id,
            "decision": action.decision,
            "actor_id": action.decision.actor_id,
        },
    )
    try:
        approval.status = transition(approval.status, event)
    except InvalidTransition as exc:
        raise _conflict(str(exc)) from exc
    return approval


def _state(action: Action) -> dict[str, Any]:
    approval = DualChannelApproval.objects.filter(action=action).first()
    return {
        "consented_at": action.consented_at.isoformat() if action.consented_at else None,
        "approval_status": approval.status if approval else None,
    }


APPROVAL_AUDIT = AdminAudit("action_approval", _state)


def action_consent(*, principal: Principal, action_id: str) -> Action:
    """The actor's explicit consent to a Multiplier; with dual channel it is the first approval.

    Raises:
        NotFound: no such action for the tenant.
        ApplicationError: ``FORBIDDEN`` (403) unless the caller is the decision's actor;
            ``INVALID_STATE`` (409) for a non-Multiplier, a repeated consent, or a rejected one.
    """
    with tenant_atomic():
        action = _locked_action(principal, action_id)
        if principal.actor_id != action.decision.actor_id:
            raise _forbidden("Only the actor the action was proposed to can consent.")
        if action.type != ActionType.MULTIPLIER:
            raise _conflict("Only Multiplier actions take consent.")
        if action.consented_at is not None:
            raise _conflict("Consent is already recorded.")
        before = _state(action)
        if action.requires_dual_channel:
            approval = _approval_moved(action, "actor_approve")
            approval.first_approval_at = timezone.now()
            approval.save()
        action.consented_at = timezone.now()
        action.save(update_fields=["consented_at"])
        APPROVAL_AUDIT.record(action, actor_id=principal.actor_id, operation="consent", before=before)
    return action


def _is_designated_approver(principal: Principal) -> bool:
    approvers = tenant_policy_get(tenant_id=principal.tenant_id).dual_channel_approvers
    return principal.actor_id in approvers or principal.is_admin


def action_approve(*, principal: Principal, action_id: str) -> DualChannelApproval:
    """The designated approver's (second) approval of a dual-channel Multiplier.

    Designated approvers: the tenant policy's ``dual_channel_approvers``, or a tenant admin.

    Raises:
        ApplicationError: ``FORBIDDEN`` (403) for a caller who is not a designated approver;
            ``INVALID_STATE`` (409) when no dual channel is required, when the approver is the
            actor (the same person cannot give both approvals), out of order, or repeated.
    """
    with tenant_atomic():
        action = _locked_action(principal, action_id)
        if not action.requires_dual_channel:
            raise _conflict("This action does not require dual-channel approval.")
        if principal.actor_id == action.decision.actor_id:
            raise _conflict("The same person cannot give both approvals.")
        if not _is_designated_approver(principal):
            raise _forbidden("Only a designated approver can give the second approval.")
        before = _state(action)
        approval = _approval_moved(action, "approver_approve")
        approval.approver_id = principal.actor_id
        approval.second_approval_at = timezone.now()
        approval.save()
        APPROVAL_AUDIT.record(action, actor_id=principal.actor_id, operation="approve", before=before)
    return approval


def action_reject(*, principal: Principal, action_id: str, reason: str) -> DualChannelApproval:
    """The actor or a designated approver rejects; the action can then never execute."""
    with tenant_atomic():
        action = _locked_action(principal, action_id)
        if not action.requires_dual_channel:
            raise _conflict("This action does not require dual-channel approval.")
        if principal.actor_id != action.decision.actor_id and not _is_designated_approver(principal):
            raise _forbidden("Only the actor or a designated approver can reject.")
        before = _state(action)
        approval = _approval_moved(action, "reject")
        approval.rejected_by = principal.actor_id
        approval.rejection_reason = reason[:1000]
        approval.save()
        APPROVAL_AUDIT.record(action, actor_id=principal.actor_id, operation="reject", before=before)
    return approval


@dataclass(frozen=True)
class ExecutionStatus:
    may_execute: bool
    reasons: tuple[str, ...]
    consent_recorded: bool
    approval_status: str | None


def action_execution_status(*, principal: Principal, action_id: str) -> tuple[Action, ExecutionStatus]:
    """May the Edge Agent or CI execute this action now? (FR-6: consent plus approvals.)"""
    action = get_for_tenant(
        Action.objects.select_related("decision"),
        tenant_id=principal.tenant_id,
        pk=action_id,
        resource="Action",
    )
    approval = DualChannelApproval.objects.filter(action=action).first()
    status = (
        approval.status if approval else (ApprovalStatus.PENDING if action.requires_dual_channel else None)
    )
    reasons = []
    if action.type != ActionType.MULTIPLIER:
        reasons.append("not_a_multiplier")
    if action.consented_at is None:
        reasons.append("consent_missing")
    if action.requires_dual_channel and status != ApprovalStatus.FULLY_APPROVED:
        reasons.append(f"dual_channel_{status}")
    return action, ExecutionStatus(
        may_execute=not reasons,
        reasons=tuple(reasons),
        consent_recorded=action.consented_at is not None,
        approval_status=status,
    )
