"""Decision and outcome writes: the decision flow of DESIGN.md, steps 2 to 10 (FR-1..FR-8, FR-14).

``decision_create`` loads the inputs (policy, preferences, recent signals, candidate playbooks),
runs the engine's pure steps (``decisions.engine``), reserves fatigue slots, and persists the
signal, the decision and its actions in one transaction.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from decisions.delivery import deliveries_create
from decisions.engine.compose import ProposedAction, compose_actions
from decisions.engine.context import RECENT_SIGNALS_LIMIT, DecisionContext, assemble_context
from decisions.engine.fatigue import reservation_for
from decisions.engine.gates import policy_gate, preference_gate, quiet_hours_gate
from decisions.engine.matching import PlaybookCandidate, match_playbooks
from decisions.engine.policy import PolicyView
from decisions.engine.prioritise import prioritise
from decisions.engine.routing import surface_payloads
from decisions.enrichment import enqueue_enrichment, plan_enrichment
from decisions.fatigue_store import fatigue_store
from decisions.models import Action, Decision, LLMStatus, Outcome, OutcomeResult, Signal, SignalStatus
from decisions.peers import gather
from decisions.selectors import decision_for_signal, recent_signal_metadata
from experiments.selectors import apply_experiments
from mmm_project import metrics
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError, NotFound
from mmm_project.events import publish_after_commit
from mmm_project.tenancy import parse_uuid
from playbooks.selectors import playbook_candidates
from preferences.selectors import actor_preferences_view, tenant_policy_view
from receipts.documents import decision_body, outcome_body
from receipts.services import receipt_create

logger = logging.getLogger(__name__)

SIGNAL_CONTEXT_KEYS = ("repo_id", "branch", "file_path", "environment", "team_id")

# NFR-1 latency targets, seconds: IDE calls and CI/PR calls.
LATENCY_BUDGET = {"ide": 0.150, "ci": 0.500}


@dataclass(frozen=True)
class DecisionResult:
    """The decision and whether it was an idempotent replay of an earlier one for the signal."""

    decision: Decision
    replayed: bool


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

    Raises:
        ApplicationError: ``FORBIDDEN`` (403) when the body's ``tenant_id`` is not the token's.
    """
    if request["tenant_id"] != principal.tenant_id:
        raise ApplicationError(
            "FORBIDDEN",
            "tenant_id does not match the token.",
            status_code=403,
            fields={"tenant_id": ["must be the token's tenant"]},
        )
    own = request.get("actor_id", principal.actor_id) == principal.actor_id
    request_context = dict(request.get("context") or {})
    signal = dict(request["signal"])
    signal.setdefault("signal_id", f"mmm-{uuid.uuid4()}")
    return DecideInput(
        tenant_id=principal.tenant_id,
        actor_id=request.get("actor_id") or principal.actor_id,
        actor_type=request.get("actor_type") or (principal.actor_type if own else "human"),
        roles=tuple(request_context.get("roles", list(principal.roles) if own else [])),
        request_context=request_context,
        signal=signal,
        signal_ts=signal.get("ts") or now,
    )


def _deliver(
    ranked: list[ProposedAction],
    *,
    data: DecideInput,
    policy: PolicyView,
    repo_id: str,
    now: datetime,
    reserve: bool,
) -> tuple[list[ProposedAction], list[dict[str, Any]]]:
    """Cap per decision and take fatigue slots in priority order (FR-7).

    ``reserve=False`` only checks the counters (dry runs): nothing is consumed.
    """
    store = fatigue_store()
    delivered, suppressed = [], []
    cooled: set[str] = set()  # one cool-down per playbook and decision, not per action
    for action in ranked:
        if len(delivered) >= policy.max_actions_per_decision:
            suppressed.append(action.suppressed("fatigue.cap_per_decision"))
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
    proposed, dropped, llm_degraded = plan_enrichment(proposed)
    suppressed += dropped
    if llm_degraded:
        metrics.DEGRADED_DECISIONS.labels(data.tenant_id, "llm_gateway").inc()
    if peers.fail_closed:
        # FR-11: a safety-critical tenant without a fresh policy gets no actions at all.
        suppressed += [action.suppressed("policy.unavailable_fail_closed") for action in proposed]
        proposed = []
    kept, dropped = policy_gate(proposed, policy)
    suppressed += dropped
    kept, dropped = preference_gate(kept, prefs, now=now)
    suppressed += dropped
    kept, dropped = quiet_hours_gate(kept, policy, now=now)
    suppressed += dropped
    ranked = prioritise(
        kept, context=context, priorities=policy.priorities, signal_ts=data.signal_ts, now=now
    )
    delivered, dropped = _deliver(
        ranked, data=data, policy=policy, repo_id=context.repo_id, now=now, reserve=reserve
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


def decision_create(
    *, principal: Principal, request: dict[str, Any], now: datetime | None = None
) -> DecisionResult:
    """Decide on one signal for one actor (``POST /v1/mmm/decide``, spec 11.1).

    Args:
        principal: the authenticated caller; its tenant is the decision's tenant.
        request: validated ``DecideInputSerializer`` data.
        now: the decision time (tests pass it; defaults to the current time).
    Returns:
        The persisted decision with its actions. A signal id already decided returns the first
        decision (``replayed=True``): the same signal never decides twice (FR-1).
    Raises:
        ApplicationError: ``FORBIDDEN`` (403) when the body's ``tenant_id`` is not the token's.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    data = decide_input(principal=principal, request=request, now=now)
    tenant_id = data.tenant_id
    metrics.SIGNALS_RECEIVED.labels(tenant_id, data.signal["source"], data.signal["event_type"]).inc()

    earlier = decision_for_signal(tenant_id=tenant_id, signal_id=data.signal["signal_id"])
    if earlier is not None:
        return DecisionResult(earlier, replayed=True)

    result = evaluate(data, now=now, reserve=True)
    elapsed = time.perf_counter() - started
    budget = LATENCY_BUDGET.get(data.request_context.get("surface", "ide"), LATENCY_BUDGET["ide"])
    try:
        decision = _persist(
            data=data, result=result, latency_ms=elapsed * 1000, latency_warning=elapsed > budget, now=now
        )
    except IntegrityError:
        # A concurrent request decided the same signal first: answer with its decision.
        earlier = decision_for_signal(tenant_id=tenant_id, signal_id=data.signal["signal_id"])
        if earlier is None:
            raise
        return DecisionResult(earlier, replayed=True)

    if elapsed > budget:
        logger.warning(
            "decision over latency budget",
            extra={"decision_id": str(decision.id), "latency_ms": elapsed * 1000},
        )
    metrics.DECISIONS.labels(tenant_id, data.actor_type).inc()
    metrics.DECISION_LATENCY.labels(tenant_id).observe(time.perf_counter() - started)
    for action in result.delivered:
        metrics.ACTIONS.labels(tenant_id, action.type).inc()
    for record in result.suppressed:
        metrics.ACTIONS_SUPPRESSED.labels(tenant_id, record["reason"].split(":")[0]).inc()
    return DecisionResult(decision, replayed=False)


def decide_stored_signal(data: DecideInput, *, now: datetime | None = None) -> Decision:
    """Decide on a signal that ingestion already stored (``decisions.ingest``), attaching to it."""
    now = now or timezone.now()
    started = time.perf_counter()
    result = evaluate(data, now=now, reserve=True)
    elapsed = time.perf_counter() - started
    decision = _persist(data=data, result=result, latency_ms=elapsed * 1000, latency_warning=False, now=now)
    metrics.DECISIONS.labels(data.tenant_id, data.actor_type).inc()
    for action in result.delivered:
        metrics.ACTIONS.labels(data.tenant_id, action.type).inc()
    return decision


def _persist(
    *, data: DecideInput, result: Evaluation, latency_ms: float, latency_warning: bool, now: datetime
) -> Decision:
    """Signal (if new), decision, actions and the decision receipt in one transaction (step 10)."""
    signal_in = data.signal
    with transaction.atomic():
        signal, _ = Signal.objects.get_or_create(
            tenant_id=data.tenant_id,
            signal_id=signal_in["signal_id"],
            defaults={
                "actor_id": data.actor_id,
                "actor_type": data.actor_type,
                "source": signal_in["source"],
                "event_type": signal_in["event_type"],
                "severity": signal_in["severity"],
                "ts": data.signal_ts,
                "payload": signal_in.get("payload", {}),
                "context": {k: v for k, v in data.request_context.items() if k in SIGNAL_CONTEXT_KEYS},
                "status": SignalStatus.DECIDED,
            },
        )
        if signal.status != SignalStatus.DECIDED:  # an ingested signal, decided now
            Signal.objects.filter(pk=signal.pk).update(status=SignalStatus.DECIDED, last_error="")
        decision = Decision.objects.create(
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            actor_type=data.actor_type,
            signal=signal,
            context=result.context.as_dict(),
            playbooks_fired=[
                {"playbook_id": c.playbook_id, "playbook_version": c.version} for c in result.matched
            ],
            policy_snapshot_id=result.policy.snapshot_id,
            policy_version_ids=list(result.policy.version_ids or (result.policy.snapshot_id,)),
            degraded_mode=result.degraded_mode,
            policy_stale=result.policy_stale,
            suppressed_actions=result.suppressed,
            experiment_assignments=result.experiment_assignments,
            latency_ms=round(latency_ms, 3),
            latency_warning=latency_warning,
            created_at=now,
        )
        actions = Action.objects.bulk_create(
            Action(
                tenant_id=data.tenant_id,
                decision=decision,
                playbook_version_id=action.version_id,
                type=action.type,
                surfaces=list(action.surfaces),
                payload=action.payload,
                surface_payloads=action.surface_payloads,
                requires_consent=action.requires_consent,
                requires_dual_channel=action.requires_dual_channel,
                priority=action.priority,
                position=position,
                experiment_id=action.experiment_id,
                variant=action.variant,
                llm_status=LLMStatus.PENDING if action.llm_prompt else "",
                llm_prompt=action.llm_prompt,
                created_at=now,
            )
            for position, action in enumerate(result.delivered)
        )
        deliveries_create(actions=actions)
        enqueue_enrichment([str(a.id) for a in actions if a.llm_status == LLMStatus.PENDING])
        # The signed decision receipt joins the same transaction (FR-12 outbox).
        receipt_create(
            build=lambda rid: decision_body(receipt_id=rid, decision=decision, actions=actions, now=now)
        )
        publish_after_commit(
            topic="mmm.decisions",
            tenant_id=data.tenant_id,
            event_type="decision.created",
            payload={
                "decision_id": str(decision.id),
                "actor_type": data.actor_type,
                "signal": {k: signal_in[k] for k in ("signal_id", "source", "event_type", "severity")},
                "actions": [
                    {"action_id": str(a.id), "type": a.type, "surfaces": list(a.surfaces)} for a in actions
                ],
                "suppressed": len(result.suppressed),
                "degraded_mode": decision.degraded_mode,
                "policy_snapshot_id": decision.policy_snapshot_id,
            },
        )
    return Decision.objects.prefetch_related("actions").get(pk=decision.pk)


def outcome_create(
    *, principal: Principal, decision_id: str, request: dict[str, Any], now: datetime | None = None
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
    action = decision.actions.filter(pk=request["action_id"]).first()
    if action is None:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "The action is not part of this decision.",
            fields={"action_id": ["is not an action of this decision"]},
        )
    result = request["result"]
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
            actor_id=request.get("actor_id") or principal.actor_id,
            result=result,
            reason=request.get("reason", ""),
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
