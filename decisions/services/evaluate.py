"""The decision flow's evaluation, steps 3 to 9 of DESIGN.md (FR-2..FR-8, FR-10, FR-11, FR-14).

``evaluate`` loads what a decision needs (policy, preferences, recent signals, candidate
playbooks; peers through ``decisions.services.peers``), runs the engine's pure steps
(``decisions.engine``) in order, and takes fatigue slots. It writes nothing else: persisting is
``decisions.services.decide``; a dry run calls it with ``reserve=False``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from decisions.engine.compose import ProposedAction
from decisions.engine.context import (
    RECENT_INCIDENTS_LIMIT,
    RECENT_SIGNALS_LIMIT,
    DecisionContext,
    assemble_context,
)
from decisions.engine.matching import PlaybookCandidate, match_playbooks
from decisions.engine.policy import PolicyView
from decisions.engine.prioritise.ranking import rank_templates
from decisions.engine.thresholds import RepoHistory, history_queries
from decisions.selectors import recent_incident_metadata, recent_signal_metadata, repo_signal_history
from decisions.services.peers import gather
from decisions.services.selection import select_actions
from experiments.selectors import apply_experiments
from mmm_project import metrics, tracing
from mmm_project.auth.principal import Principal
from mmm_project.caching import TENANT_CONFIG, generation_get
from mmm_project.errors import ApplicationError
from mmm_project.privacy import EMAIL_MESSAGE, looks_like_email
from playbooks.selectors import playbook_candidates
from preferences.selectors import actor_preferences_view, tenant_policy_view

# How far back the embedded default looks for the tenant's incident.* signals (FR-2).
RECENT_INCIDENTS_HOURS = 24


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
    experiment_assignments: dict[str, dict[str, Any]]
    degraded_mode: bool = False
    policy_stale: bool = False
    policy_overrides: list[dict[str, Any]] = field(default_factory=list)  # FR-11 lifts applied
    trigger_counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # issue 15, by playbook

    @property
    def suppressed_count(self) -> int:
        """Suppressed actions, summarised records counted by their ``count``."""
        return sum(record.get("count", 1) for record in self.suppressed)


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


def evaluate(
    data: DecideInput,
    *,
    candidates: list[PlaybookCandidate] | None = None,
    recent_signals: list[dict[str, str]] | None = None,
    history: RepoHistory | None = None,
    now: datetime,
    reserve: bool,
    deadline: float | None = None,
    generation: str | None = None,
) -> Evaluation:
    """Run the decision flow's steps 3 to 9 (DESIGN.md) for ``data``; write nothing else.

    ``candidates`` defaults to the tenant's published playbooks that fit the signal; a dry run
    passes a draft instead. ``recent_signals``: the actor's latest signals when the caller read
    them already (``decisions.selectors.signal_lookup``), else read here unless UBI gives them;
    ``history`` likewise the prior fitting signals of the repository for the candidates' count
    triggers (issue 15), read here only when a candidate has one and the caller did not.
    With ``reserve=True`` fatigue slots are taken for the delivered actions (a real decision);
    with False they are only checked. ``deadline`` (``time.perf_counter()``): the latency budget
    (``decisions.services.selection``). The tenant's policy, playbooks and experiments come from
    the per-process caches of one configuration generation (``mmm_project.caching``; ``generation``
    when the caller read it already).
    """
    generation = generation or generation_get(TENANT_CONFIG, data.tenant_id)
    if candidates is None:  # cached per process: read first, so the context holds what they use
        candidates = playbook_candidates(
            tenant_id=data.tenant_id,
            event_type=data.signal["event_type"],
            source=data.signal["source"],
            severity=data.signal["severity"],
            generation=generation,
        )
    repo_id = str(data.request_context.get("repo_id") or "")
    queries = ()
    if history is None:
        queries = history_queries(t for c in candidates for t in c.trigger_thresholds)
    if queries:  # issue 15: count triggers, when the caller did not read their history
        history = repo_signal_history(
            tenant_id=data.tenant_id,
            repo_id=repo_id,
            signal_id=str(data.signal["signal_id"]),
            signal_ts=data.signal_ts,
            queries=queries,
        )
    # FR-2: incidents cost a peer call or a query; read only when a candidate playbook uses them.
    wants_incidents = any("recent_incidents" in c.on_demand_roots for c in candidates)
    with tracing.span("mmm.context") as span:  # steps 3 and 4: peers in parallel, then the context
        local_policy = tenant_policy_view(tenant_id=data.tenant_id, generation=generation)
        peers = gather(
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            actor_type=data.actor_type,
            signal_id=data.signal["signal_id"],
            local_policy=local_policy,
            limit=RECENT_SIGNALS_LIMIT,
            incidents_repo=repo_id if wants_incidents else None,
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
        recent = peers.recent_signals if peers.recent_signals is not None else recent_signals
        if recent is None:
            recent = recent_signal_metadata(
                tenant_id=data.tenant_id,
                actor_id=data.actor_id,
                limit=RECENT_SIGNALS_LIMIT,
                exclude_signal_id=str(data.signal["signal_id"]),  # a worker's: stored already
            )
        incidents = peers.incidents
        if incidents is None and wants_incidents:  # embedded default: the tenant's incident.* signals
            incidents = recent_incident_metadata(
                tenant_id=data.tenant_id,
                repo_id=repo_id,
                since=data.signal_ts - timedelta(hours=RECENT_INCIDENTS_HOURS),
                limit=RECENT_INCIDENTS_LIMIT,
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
            recent_incidents=incidents or (),
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
    with tracing.span("mmm.playbook_evaluation") as span:  # step 5 and 6: match, then rank
        match = match_playbooks(
            candidates,
            actor_roles=frozenset(roles),
            context=context.as_dict(),
            history=history,
            signal_ts=data.signal_ts,
        )
        matched, assignments = apply_experiments(
            list(match.matched),
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            team_id=str(data.request_context.get("team_id") or data.request_context.get("repo_id") or ""),
            seed_key=str(data.signal["signal_id"]),  # FR-9: a bandit's draws, reproducible
            generation=generation,
        )
        ranked = rank_templates(
            matched, context=context, priorities=policy.priorities, signal_ts=data.signal_ts, now=now
        )
        tracing.set_attributes(
            span,
            playbook_ids=[c.playbook_id for c in match.matched[:50]],  # all are on the decision
            **{"mmm.candidate_count": len(candidates), "mmm.proposed_count": len(ranked)},
        )
    selection = select_actions(
        ranked,
        tenant_id=data.tenant_id,
        actor_id=data.actor_id,
        severity=data.signal["severity"],
        context=context,
        policy=policy,
        prefs=prefs,
        fail_closed=peers.fail_closed,
        now=now,
        reserve=reserve,
        deadline=deadline,
    )
    if selection.latency_exceeded:
        metrics.DEGRADED_DECISIONS.labels(data.tenant_id, "latency_budget").inc()
    return Evaluation(
        context=context,
        policy=policy,
        matched=match.matched,
        delivered=selection.delivered,
        suppressed=list(match.errors) + selection.suppressed,
        experiment_assignments=assignments,
        degraded_mode=bool(peers.degraded) or selection.llm_degraded or selection.latency_exceeded,
        policy_stale=peers.policy_stale,
        policy_overrides=selection.policy_overrides,
        trigger_counts=match.trigger_counts,
    )
