"""Acknowledgements of a playbook's actions (FR-3 escalation behaviour, ``routing.escalation``).

A playbook with ``routing.escalation`` counts its deliveries to an actor on a repository in the
fatigue store (``decisions.engine.playbook_routing``); an outcome that shows the actor attended to
one of them starts the count again. Acknowledging results: ``accepted``, ``dismissed``, ``failed``
(the actor consented and it ran) and every feedback (``helpful``, ``not_relevant``,
``less_like_this``). ``shown`` and ``ignored`` are not: a surface reports them without the actor.
"""

from __future__ import annotations

import logging

from django.db import transaction

from decisions.engine.playbook_routing import escalation_key
from decisions.fatigue_store import fatigue_store
from decisions.models import Action, Decision
from mmm_project.background.transient import transient_reason
from mmm_project.vocabulary import Feedback, OutcomeResult

logger = logging.getLogger(__name__)

ACKNOWLEDGING_RESULTS = frozenset(
    {OutcomeResult.ACCEPTED, OutcomeResult.DISMISSED, OutcomeResult.FAILED, *Feedback}
)


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
    transaction.on_commit(lambda: _reset(key))
    return True


def _reset(key: str) -> None:
    try:
        fatigue_store().acknowledge(key)
    except Exception as exc:
        reason = transient_reason(exc)
        if reason is None:
            raise
        logger.warning("escalation count not reset", extra={"error": reason})
