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

from decisions.engine.compose import ProposedAction, compose_actions
from decisions.engine.context import RECENT_SIGNALS_LIMIT, assemble_context
from decisions.engine.fatigue import reservation_for
from decisions.engine.gates import policy_gate, preference_gate, quiet_hours_gate
from decisions.engine.matching import match_playbooks
from decisions.engine.policy import PolicyView
from decisions.engine.prioritise import prioritise
from decisions.engine.routing import surface_payloads
from decisions.fatigue_store import fatigue_store
from decisions.models import Action, Decision, Outcome, OutcomeResult, Signal
from decisions.selectors import decision_for_signal, recent_signal_metadata
from mmm_project import metrics
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError, NotFound
from mmm_project.tenancy import parse_uuid
from playbooks.selectors import playbook_candidates
from preferences.selectors import actor_preferences_view, tenant_policy_view
from receipts.documents import decision_body, outcome_body
from receipts.services import receipt_create

logger = logging.getLogger(__name__)

# NFR-1 latency targets, seconds: IDE calls and CI/PR calls.
LATENCY_BUDGET = {"ide": 0.150, "ci": 0.500}


@dataclass(frozen=True)
class DecisionResult:
    """The decision and whether it was an idempotent replay of an earlier one for the signal."""

    decision: Decision
    replayed: bool


def _deliver(
    ranked: list[ProposedAction],
    *,
    policy: PolicyView,
    tenant_id: str,
    actor_id: str,
    repo_id: str,
    severity: str,
    now: datetime,
) -> tuple[list[ProposedAction], list[dict[str, Any]]]:
    """Cap per decision and reserve fatigue slots in priority order (FR-7)."""
    store = fatigue_store()
    delivered, suppressed = [], []
    cooled: set[str] = set()  # one cool-down per playbook and decision, not per action
    for action in ranked:
        if len(delivered) >= policy.max_actions_per_decision:
            suppressed.append(action.suppressed("fatigue.cap_per_decision"))
            continue
        cooldown = action.cooldown_minutes if action.cooldown_minutes is not None else policy.cooldown_minutes
        reason = store.reserve(
            reservation_for(
                tenant_id=tenant_id,
                actor_id=actor_id,
                repo_id=repo_id,
                playbook_id=action.playbook_id,
                now=now,
                timezone=policy.timezone,
                max_per_hour=policy.max_actions_per_hour,
                max_per_day=policy.max_actions_per_day,
                max_per_repo_per_day=policy.max_actions_per_repo_per_day,
                cooldown_minutes=0 if action.playbook_id in cooled else cooldown,
            )
        )
        if reason is not None:
            suppressed.append(action.suppressed(reason))
            continue
        cooled.add(action.playbook_id)
        delivered.append(replace(action, surface_payloads=surface_payloads(action, severity=severity)))
    return delivered, suppressed


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
    tenant_id = principal.tenant_id
    if request["tenant_id"] != tenant_id:
        raise ApplicationError(
            "FORBIDDEN",
            "tenant_id does not match the token.",
            status_code=403,
            fields={"tenant_id": ["must be the token's tenant"]},
        )
    own = request.get("actor_id", principal.actor_id) == principal.actor_id
    actor_id = request.get("actor_id") or principal.actor_id
    actor_type = request.get("actor_type") or (principal.actor_type if own else "human")
    request_context = request.get("context") or {}
    roles = request_context.get("roles", list(principal.roles) if own else [])
    signal_in = dict(request["signal"])
    signal_in.setdefault("signal_id", f"mmm-{uuid.uuid4()}")
    signal_ts = signal_in.get("ts") or now
    metrics.SIGNALS_RECEIVED.labels(tenant_id, signal_in["source"], signal_in["event_type"]).inc()

    earlier = decision_for_signal(tenant_id=tenant_id, signal_id=signal_in["signal_id"])
    if earlier is not None:
        return DecisionResult(earlier, replayed=True)

    policy = tenant_policy_view(tenant_id=tenant_id)
    prefs = actor_preferences_view(tenant_id=tenant_id, actor_id=actor_id)
    context = assemble_context(
        tenant_id=tenant_id,
        actor_id=actor_id,
        actor_type=actor_type,
        actor_roles=roles,
        request_context=request_context,
        signal=signal_in,
        signal_ts=signal_ts,
        recent_signals=recent_signal_metadata(
            tenant_id=tenant_id, actor_id=actor_id, limit=RECENT_SIGNALS_LIMIT
        ),
        policy={
            "quiet_hours": policy.quiet_hours,
            "enabled_action_types": sorted(policy.enabled_action_types),
            "enabled_surfaces": sorted(policy.enabled_surfaces),
            "policy_snapshot_id": policy.snapshot_id,
        },
    )
    candidates = playbook_candidates(
        tenant_id=tenant_id,
        event_type=signal_in["event_type"],
        source=signal_in["source"],
        severity=signal_in["severity"],
    )
    match = match_playbooks(candidates, actor_roles=frozenset(roles), context=context.as_dict())

    proposed: list[ProposedAction] = []
    suppressed: list[dict[str, Any]] = list(match.errors)
    for candidate in match.matched:
        actions, dropped = compose_actions(
            candidate, context=context, dual_channel_tags=policy.dual_channel_tags
        )
        proposed += actions
        suppressed += dropped
    kept, dropped = policy_gate(proposed, policy)
    suppressed += dropped
    kept, dropped = preference_gate(kept, prefs, now=now)
    suppressed += dropped
    kept, dropped = quiet_hours_gate(kept, policy, now=now)
    suppressed += dropped
    ranked = prioritise(kept, context=context, priorities=policy.priorities, signal_ts=signal_ts, now=now)
    delivered, dropped = _deliver(
        ranked,
        policy=policy,
        tenant_id=tenant_id,
        actor_id=actor_id,
        repo_id=context.repo_id,
        severity=context.signal.severity,
        now=now,
    )
    suppressed += dropped

    elapsed = time.perf_counter() - started
    budget = LATENCY_BUDGET.get(request_context.get("surface", "ide"), LATENCY_BUDGET["ide"])
    try:
        decision = _persist(
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type=actor_type,
            signal_in=signal_in,
            signal_ts=signal_ts,
            context=context.as_dict(),
            policy=policy,
            match_ids=[(c.playbook_id, c.version) for c in match.matched],
            delivered=delivered,
            suppressed=suppressed,
            latency_ms=elapsed * 1000,
            latency_warning=elapsed > budget,
            now=now,
        )
    except IntegrityError:
        # A concurrent request decided the same signal first: answer with its decision.
        earlier = decision_for_signal(tenant_id=tenant_id, signal_id=signal_in["signal_id"])
        if earlier is None:
            raise
        return DecisionResult(earlier, replayed=True)

    if elapsed > budget:
        logger.warning(
            "decision over latency budget",
            extra={"decision_id": str(decision.id), "latency_ms": elapsed * 1000},
        )
    metrics.DECISIONS.labels(tenant_id, actor_type).inc()
    metrics.DECISION_LATENCY.labels(tenant_id).observe(time.perf_counter() - started)
    for action in delivered:
        metrics.ACTIONS.labels(tenant_id, action.type).inc()
    for record in suppressed:
        metrics.ACTIONS_SUPPRESSED.labels(tenant_id, record["reason"].split(":")[0]).inc()
    return DecisionResult(decision, replayed=False)


def _persist(
    *,
    tenant_id: str,
    actor_id: str,
    actor_type: str,
    signal_in: dict[str, Any],
    signal_ts: datetime,
    context: dict[str, Any],
    policy: PolicyView,
    match_ids: list[tuple[str, int]],
    delivered: list[ProposedAction],
    suppressed: list[dict[str, Any]],
    latency_ms: float,
    latency_warning: bool,
    now: datetime,
) -> Decision:
    """Signal (if new), decision, actions and the decision receipt in one transaction (step 10)."""
    with transaction.atomic():
        signal, _ = Signal.objects.get_or_create(
            tenant_id=tenant_id,
            signal_id=signal_in["signal_id"],
            defaults={
                "actor_id": actor_id,
                "actor_type": actor_type,
                "source": signal_in["source"],
                "event_type": signal_in["event_type"],
                "severity": signal_in["severity"],
                "ts": signal_ts,
                "payload": signal_in.get("payload", {}),
            },
        )
        decision = Decision.objects.create(
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type=actor_type,
            signal=signal,
            context=context,
            playbooks_fired=[{"playbook_id": pid, "playbook_version": version} for pid, version in match_ids],
            policy_snapshot_id=policy.snapshot_id,
            policy_version_ids=[policy.snapshot_id],
            suppressed_actions=suppressed,
            latency_ms=round(latency_ms, 3),
            latency_warning=latency_warning,
            created_at=now,
        )
        actions = Action.objects.bulk_create(
            Action(
                tenant_id=tenant_id,
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
                created_at=now,
            )
            for position, action in enumerate(delivered)
        )
        # The signed decision receipt joins the same transaction (FR-12 outbox).
        receipt_create(
            build=lambda rid: decision_body(receipt_id=rid, decision=decision, actions=actions, now=now)
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
    metrics.OUTCOMES.labels(tenant_id, result).inc()
    if result == OutcomeResult.ACCEPTED:
        metrics.ACTIONS_ACCEPTED.labels(tenant_id, action.type).inc()
    return outcome
