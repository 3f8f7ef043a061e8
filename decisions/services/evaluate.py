"""The decision flow's evaluation, steps 3 to 9 of DESIGN.md (FR-2..FR-8, FR-10, FR-11, FR-14).

``evaluate`` loads what a decision needs (policy, preferences, recent signals, candidate
playbooks; peers through ``decisions.services.peers``), runs the engine's pure steps
(``decisions.engine``) in order, and takes fatigue slots. It writes nothing else: persisting is
``decisions.services.decide``; a dry run calls it with ``reserve=False``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from decisions.delivery.enrichment import plan_enrichment
from decisions.engine.compose import ProposedAction, compose_actions
from decisions.engine.context import RECENT_SIGNALS_LIMIT, DecisionContext, assemble_context
from decisions.engine.fatigue import reservation_for
from decisions.engine.gates import policy_gate, preference_gate, quiet_hours_gate
from decisions.engine.matching import PlaybookCandidate, match_playbooks
from decisions.engine.policy import PolicyView
from decisions.engine.prioritise import prioritise
from decisions.engine.routing import surface_payloads
from decisions.fatigue_store import FatigueStore, fatigue_store
from decisions.selectors import recent_signal_metadata
from decisions.services.peers import gather
from experiments.selectors import apply_experiments
from mmm_project import metrics, tracing
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from mmm_project.privacy import EMAIL_MESSAGE, looks_like_email
from mmm_project.vocabulary import Suppression
from playbooks.selectors import playbook_candidates
from preferences.selectors import actor_preferences_view, tenant_policy_view


@dataclass(frozen=True)
class DecideInput:
    """Who and what a decision is about, resolved from the request and the caller's token."""

    tenant_id: str
    actor_id: str
    actor_type: str
    roles: tuple[str, ...]
    request_context: dict[str, Any]
    signal: dict[str, Any]  # the envelope, with signal_id and severity filled in
    signal_ts: datetime

    @classmethod
    def from_signal(cls, signal: Any, *, context: dict[str, Any] | None = None) -> DecideInput:
        """The input for deciding again on a stored ``Signal`` row (worker, dry run).

        ``context``: the ``{"actor": {"roles"}, "context": {...}}`` a decision recorded for the
        signal, when it should win over what the signal row kept (dry runs of decided signals).
        """
        if context is not None:
            roles = context.get("actor", {}).get("roles", [])
            request_context = dict(context.get("context", {}))
        else:
            roles = signal.context.get("roles", [])
            request_context = {k: v for k, v in signal.context.items() if k != "roles"}
        return cls(
            tenant_id=signal.tenant_id,
            actor_id=signal.actor_id,
            actor_type=signal.actor_type,
            roles=tuple(roles),
            request_context=request_context,
            signal={
                "signal_id": signal.signal_id,
                "source": signal.source,
                "event_type": signal.event_type,
                "severity": signal.severity,
                "payload": signal.payload,
            },
            signal_ts=signal.ts,
        )


@dataclass(frozen=True)
class Evaluation:
    """Everything the decision flow worked out, before anything is written."""

    context: DecisionContext
    policy: PolicyView
    matched: tuple[PlaybookCandidate, ...]
    delivered: list[ProposedAction]
    suppressed: list[dict[str, Any]]
    experiment_assignments: dict[str, dict[str, str]]
    degraded_mode: bool = False
    policy_stale: bool = False


def decide_input(*, principal: Principal, request: dict[str, Any], now: datetime) -> DecideInput:
    """Resolve the actor, roles and envelope of a validated decide request.

    The token's ``actor_type`` is the caller's own (IAM's word): a body deciding for the caller
    itself may repeat it but not contradict it. Deciding for another actor (a service deciding on a
    developer's behalf), the body's ``actor_type`` describes that actor (default ``human``).

    Raises:
        ApplicationError: ``FORBIDDEN`` (403) when the body's ``tenant_id`` is not the token's, or
            when it decides for the caller with an ``actor_type`` other than the token's.
    """
    if request["tenant_id"] != principal.tenant_id:
        raise ApplicationError(
            "FORBIDDEN",
            "tenant_id does not match the token.",
            status_code=403,
            fields={"tenant_id": ["must be the token's tenant"]},
        )
    if looks_like_email(principal.actor_id):
        raise ApplicationError(
            "VALIDATION_ERROR",
            "The token's actor id is an e-mail address.",
            fields={"actor_id": [EMAIL_MESSAGE]},
        )
    own = request.get("actor_id", principal.actor_id) == principal.actor_id
    if own and request.get("actor_type", principal.actor_type) != principal.actor_type:
        raise ApplicationError(
            "FORBIDDEN",
            "actor_type does not match the token.",
            status_code=403,
            fields={"actor_type": ["must be the token's actor_type when deciding for yourself"]},
        )
    request_context = dict(request.get("context") or {})
    signal = dict(request["signal"])
    signal.setdefault("signal_id", f"mmm-{uuid.uuid4()}")
    return DecideInput(
        tenant_id=principal.tenant_id,
        actor_id=request.get("actor_id") or principal.actor_id,
        actor_type=principal.actor_type if own else request.get("actor_type", "human"),
        roles=tuple(request_context.get("roles", list(principal.roles) if own else [])),
        request_context=request_context,
        signal=signal,
        signal_ts=signal.get("ts") or now,
    )


def fatigue_reserve(
    ranked: list[ProposedAction],
    *,
    data: DecideInput,
    policy: PolicyView,
    repo_id: str,
    now: datetime,
    reserve: bool,
    store: FatigueStore | None = None,
) -> tuple[list[ProposedAction], list[dict[str, Any]]]:
    """Cap per decision and take each action's fatigue slots, in priority order (FR-7).

    Returns ``(kept, suppressed)``: actions past ``max_actions_per_decision`` or whose quota or
    cool-down is spent are suppressed with the reason; kept ones get their surface payloads (FR-8).
    ``reserve=False`` only checks the counters (dry runs): nothing is consumed. ``store`` defaults
    to the shared fatigue store; a backtest passes an in-memory one (simulated time, no writes).
    """
    store = store or fatigue_store()
    delivered, suppressed = [], []
    cooled: set[str] = set()  # one cool-down per playbook and decision, not per action
    for action in ranked:
        if len(delivered) >= policy.max_actions_per_decision:
            suppressed.append(action.suppressed(Suppression.CAP_PER_DECISION))
            continue
        cooldown = action.cooldown_minutes if action.cooldown_minutes is not None else policy.cooldown_minutes
        reservation = reservation_for(
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            repo_id=repo_id,
            playbook_id=action.playbook_id,
            now=now,
            timezone=policy.timezone,
            max_per_hour=policy.max_actions_per_hour,
            max_per_day=policy.max_actions_per_day,
            max_per_repo_per_day=policy.max_actions_per_repo_per_day,
            cooldown_minutes=0 if action.playbook_id in cooled else cooldown,
        )
        reason = store.reserve(reservation) if reserve else store.check(reservation)
        if reason is not None:
            suppressed.append(action.suppressed(reason))
            continue
        cooled.add(action.playbook_id)
        severity = data.signal["severity"]
        delivered.append(replace(action, surface_payloads=surface_payloads(action, severity=severity)))
    return delivered, suppressed


def evaluate(
    data: DecideInput, *, candidates: list[PlaybookCandidate] | None = None, now: datetime, reserve: bool
) -> Evaluation:
    """Run the decision flow's steps 3 to 9 (DESIGN.md) for ``data``; write nothing else.

    ``candidates`` defaults to the tenant's published playbooks that fit the signal; a dry run
    passes a draft instead. With ``reserve=True`` fatigue slots are taken for the delivered
    actions (a real decision); with False they are only checked.
    """
    with tracing.span("mmm.context") as span:  # steps 3 and 4: peers in parallel, then the context
        local_policy = tenant_policy_view(tenant_id=data.tenant_id)
        peers = gather(
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            actor_type=data.actor_type,
            signal_id=data.signal["signal_id"],
            local_policy=local_policy,
            limit=RECENT_SIGNALS_LIMIT,
            policy_context={  # metadata only (NFR-3)
                "actor_type": data.actor_type,
                "event_type": data.signal["event_type"],
                "source": data.signal["source"],
                "severity": data.signal["severity"],
                "repo_id": data.request_context.get("repo_id", ""),
                "environment": data.request_context.get("environment", ""),
            },
        )
        policy = peers.policy
        prefs = actor_preferences_view(tenant_id=data.tenant_id, actor_id=data.actor_id)
        recent = peers.recent_signals
        if recent is None:
            recent = recent_signal_metadata(
                tenant_id=data.tenant_id, actor_id=data.actor_id, limit=RECENT_SIGNALS_LIMIT
            )
        roles = peers.roles if peers.roles is not None else data.roles  # the IAM's, when configured
        context = assemble_context(
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            actor_type=data.actor_type,
            actor_roles=roles,
            request_context=data.request_context,
            signal=data.signal,
            signal_ts=data.signal_ts,
            recent_signals=recent,
            policy={
                "quiet_hours": policy.quiet_hours,
                "enabled_action_types": sorted(policy.enabled_action_types),
                "enabled_surfaces": sorted(policy.enabled_surfaces),
                "policy_snapshot_id": policy.snapshot_id,
            },
        )
        tracing.set_attributes(
            span,
            **{"mmm.degraded_peers": list(peers.degraded), "mmm.recent_signal_count": len(recent)},
        )
    with tracing.span("mmm.playbook_evaluation") as span:  # step 5 and 6: match, then compose
        if candidates is None:
            candidates = playbook_candidates(
                tenant_id=data.tenant_id,
                event_type=data.signal["event_type"],
                source=data.signal["source"],
                severity=data.signal["severity"],
            )
        match = match_playbooks(candidates, actor_roles=frozenset(roles), context=context.as_dict())
        matched, assignments = apply_experiments(
            list(match.matched),
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            team_id=str(data.request_context.get("team_id") or data.request_context.get("repo_id") or ""),
        )
        proposed: list[ProposedAction] = []
        suppressed: list[dict[str, Any]] = list(match.errors)
        for candidate in matched:
            actions, dropped = compose_actions(
                candidate, context=context, dual_channel_tags=policy.dual_channel_tags
            )
            proposed += actions
            suppressed += dropped
        tracing.set_attributes(
            span,
            playbook_ids=[c.playbook_id for c in match.matched],
            **{"mmm.candidate_count": len(candidates), "mmm.proposed_count": len(proposed)},
        )
    with tracing.span("mmm.llm_safety") as span:  # FR-5: what the LLM may write, or drop
        proposed, dropped, llm_degraded = plan_enrichment(proposed)
        suppressed += dropped
        if llm_degraded:
            metrics.DEGRADED_DECISIONS.labels(data.tenant_id, "llm_gateway").inc()
        tracing.set_attributes(span, degraded_mode=llm_degraded, **{"mmm.dropped_count": len(dropped)})
    with tracing.span("mmm.policy_gate") as span:  # step 7, FR-11
        before = len(suppressed)
        if peers.fail_closed:
            # FR-11: a safety-critical tenant without a fresh policy gets no actions at all.
            suppressed += [action.suppressed(Suppression.POLICY_FAIL_CLOSED) for action in proposed]
            proposed = []
        kept, dropped = policy_gate(proposed, policy)
        suppressed += dropped
        tracing.set_attributes(
            span,
            **{"mmm.dropped_count": len(suppressed) - before, "mmm.fail_closed": peers.fail_closed},
        )
    with tracing.span("mmm.preference_fatigue_gates") as span:  # steps 7 to 9: FR-14, FR-7, FR-10
        before = len(suppressed)
        kept, dropped = preference_gate(kept, prefs, now=now)
        suppressed += dropped
        kept, dropped = quiet_hours_gate(kept, policy, now=now)
        suppressed += dropped
        ranked = prioritise(
            kept, context=context, priorities=policy.priorities, signal_ts=data.signal_ts, now=now
        )
        delivered, dropped = fatigue_reserve(
            ranked, data=data, policy=policy, repo_id=context.repo_id, now=now, reserve=reserve
        )
        tracing.set_attributes(
            span,
            **{
                "mmm.dropped_count": len(suppressed) - before + len(dropped),
                "mmm.kept_count": len(delivered),
            },
        )
    return Evaluation(
        context=context,
        policy=policy,
        matched=match.matched,
        delivered=delivered,
        suppressed=suppressed + dropped,
        experiment_assignments=assignments,
        degraded_mode=bool(peers.degraded) or llm_degraded,
        policy_stale=peers.policy_stale,
    )
