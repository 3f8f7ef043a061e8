"""Escalation of a playbook's actions (FR-3 escalation behaviour, ``routing.escalation``).

A playbook with ``routing.escalation`` counts its deliveries to an actor on a repository in the
fatigue store (``decisions.engine.playbook_routing``): ``escalation_route`` counts one per decision
and routes the action to the escalation surface when enough went unacknowledged;
``escalation_acknowledge`` starts the count again when an outcome shows the actor attended to one.
Acknowledging results: ``accepted``, ``dismissed``, ``failed`` (the actor consented and it ran)
and every feedback (``helpful``, ``not_relevant``,
``less_like_this``). ``shown`` and ``ignored`` are not: a surface reports them without the actor.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from decisions.engine.compose import ProposedAction
from decisions.engine.playbook_routing import escalation_allowed, escalation_key
from decisions.engine.policy import PolicyView, PreferencesView
from decisions.fatigue_store import FatigueStore, fatigue_store
from decisions.models import Action, Decision
from mmm_project.background.transient import transient_reason
from mmm_project.residency import tenant_on_commit
from mmm_project.vocabulary import Feedback, OutcomeResult, RouteChange

logger = logging.getLogger(__name__)

ACKNOWLEDGING_RESULTS = frozenset(
    {OutcomeResult.ACCEPTED, OutcomeResult.DISMISSED, OutcomeResult.FAILED, *Feedback}
)


def escalation_route(
    action: ProposedAction,
    *,
    answers: dict[str, bool],
    tenant_id: str,
    actor_id: str,
    repo_id: str,
    policy: PolicyView,
    prefs: PreferencesView,
    now: datetime,
    reserve: bool,
    store: FatigueStore,
) -> ProposedAction:
    """``action`` (reserved, its playbook declaring ``routing.escalation``) with its surfaces set
    to the escalation surface and ``route_reason = routing.escalated`` when its playbook's count
    says so, else unchanged (FR-3).

    ``answers`` (``{playbook_id: escalates}``, per decision): a decision delivering several
    actions of a playbook counts once, and routes all of them alike. Only an escalation the tenant
    policy, the actor's preferred surfaces and consent allow (``escalation_allowed``) is counted:
    one that could not happen never builds up. ``reserve=False`` (dry runs) counts nothing.
    """
    rules = action.routing
    assert rules is not None and rules.escalate_after is not None and rules.escalate_surface
    surface = rules.escalate_surface
    if not escalation_allowed(
        action_type=action.type,
        surface=surface,
        enabled_surfaces=policy.enabled_surfaces,
        preferred_surfaces=prefs.preferred_surfaces,
    ):
        return action
    escalates = answers.get(action.playbook_id)
    if escalates is None:
        key = escalation_key(
            tenant_id=tenant_id, playbook_id=action.playbook_id, actor_id=actor_id, repo_id=repo_id
        )
        escalates = store.escalate(
            key, after=rules.escalate_after, now=now.timestamp(), check_only=not reserve
        )
        answers[action.playbook_id] = escalates
    if not escalates:
        return action
    return replace(action, surfaces=(surface,), route_reason=RouteChange.ESCALATED)


def escalation_acknowledge(*, action: Action, decision: Decision, result: str) -> bool:
    """Reset the escalation count of ``action``'s playbook for the decision's actor and repository
    once the outcome ``result`` commits; return whether a reset was scheduled.

    Costs nothing for a playbook without ``routing.escalation`` (``action.playbook_version`` is read
    with the action). A cache that is down is logged and skipped: the recorded outcome stands, and
    at worst one action is routed to the escalation surface too soon.
    """
    version = action.playbook_version
    if result not in ACKNOWLEDGING_RESULTS or version is None or not version.routing.get("escalation"):
        return False
    key = escalation_key(
        tenant_id=decision.tenant_id,
        playbook_id=str(version.playbook_id),
        actor_id=decision.actor_id,
        repo_id=str(decision.context.get("context", {}).get("repo_id") or ""),
    )
    tenant_on_commit(lambda: _reset(key))
    return True


def _reset(key: str) -> None:
    try:
        fatigue_store().acknowledge(key)
    except Exception as exc:
        reason = transient_reason(exc)
        if reason is None:
            raise
        logger.warning("escalation count not reset", extra={"error": reason})
