"""Steps 6 to 9 of DESIGN.md in priority order, stopping as soon as no further action can be
delivered (NFR-1: a tenant with 1,000 matching playbooks decides in about the time of one with 10).

The matched playbooks' action templates are ranked before anything is rendered (the priority of
FR-7 depends only on the template, the tenant's weights and the signal), then taken in batches:
compose (FR-4..6), LLM plan (FR-5), policy gate (FR-11), preference and quiet-hours gates (FR-14,
FR-7; the playbook's own too, FR-3), fatigue reservations (FR-7, its quotas too), escalation (FR-3).
It stops once the decision's cap is reached or a reason that holds for every further action appears
(snooze, quiet hours, a spent quota, fail-closed policy);
the templates never looked at are summarised in one record ``{"reason", "count"}``, not one each.
A decide past its surface's latency budget before the reservations answers with no actions
(NFR-1: "no nudges rather than partial or incorrect ones"), degraded with ``latency_budget``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from decisions.delivery.enrichment import plan_enrichment
from decisions.delivery.escalation import escalation_route
from decisions.engine.compose import ProposedAction, compose_action, evidence_links
from decisions.engine.context import DecisionContext
from decisions.engine.fatigue import reservation_for
from decisions.engine.gates import preference_gate, quiet_hours_gate
from decisions.engine.overrides import policy_gate_with_overrides
from decisions.engine.playbook_routing import playbook_quiet_hours_gate
from decisions.engine.policy import PolicyView, PreferencesView
from decisions.engine.prioritise.ranking import RankedTemplates
from decisions.engine.routing import surface_payloads
from decisions.fatigue_store import FatigueStore, fatigue_store
from mmm_project import metrics, tracing
from mmm_project.vocabulary import Suppression

# Reasons that hold for every later action of the same decision: nothing after them can go out.
FINAL_REASONS = frozenset(
    {
        Suppression.SNOOZED,
        Suppression.QUIET_HOURS,
        Suppression.QUOTA_ACTOR_HOUR,
        Suppression.QUOTA_ACTOR_DAY,
        Suppression.QUOTA_REPO_DAY,
        Suppression.POLICY_FAIL_CLOSED,
    }
)


@dataclass
class Selection:
    """What the gates let through, what they stopped, and why a decision is degraded."""

    delivered: list[ProposedAction] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    llm_degraded: bool = False
    latency_exceeded: bool = False
    cooled: set[str] = field(default_factory=set)  # one cool-down per playbook and decision
    policy_overrides: list[dict[str, Any]] = field(default_factory=list)  # FR-11 lifts applied
    escalations: dict[str, bool] = field(default_factory=dict)  # FR-3: one count per playbook


def select_actions(
    ranked: RankedTemplates,
    *,
    tenant_id: str,
    actor_id: str,
    severity: str,
    context: DecisionContext,
    policy: PolicyView,
    prefs: PreferencesView,
    fail_closed: bool,
    now: datetime,
    reserve: bool,
    deadline: float | None = None,
    store: FatigueStore | None = None,
) -> Selection:
    """Run compose and the gates over ``ranked`` in batches until nothing more can be delivered.

    ``deadline``: a ``time.perf_counter()`` value; past it, before any reservation is taken, the
    decision gets no actions (each kept one suppressed with ``degraded.latency_budget``).
    ``reserve=False`` only checks the fatigue counters (dry runs). ``store`` defaults to the shared
    fatigue store; a backtest passes an in-memory one driven by its simulated clock.
    """
    cap = policy.max_actions_per_decision
    variables, links = context.as_dict(), evidence_links(context)
    selection = Selection()
    final_reason = None
    while len(ranked) and final_reason is None:
        batch = ranked.take(cap - len(selection.delivered) + 2)
        proposed = []
        for item in batch:
            action, record = compose_action(
                item.candidate,
                item.index,
                variables=variables,
                links=links,
                dual_channel_tags=policy.dual_channel_tags,
                priority=item.priority,
            )
            if action is not None:
                proposed.append(action)
            else:
                selection.suppressed.append(record)
        final_reason = _gates(
            proposed,
            selection,
            tenant_id=tenant_id,
            actor_id=actor_id,
            severity=severity,
            context=context,
            policy=policy,
            prefs=prefs,
            fail_closed=fail_closed,
            now=now,
            reserve=reserve,
            deadline=deadline,
            store=store or fatigue_store(),
        )
        if len(selection.delivered) >= cap:
            final_reason = final_reason or Suppression.CAP_PER_DECISION
    if len(ranked):
        selection.suppressed.append({"reason": final_reason, "count": len(ranked)})
    return selection


def _gates(
    proposed: list[ProposedAction],
    selection: Selection,
    *,
    tenant_id: str,
    actor_id: str,
    severity: str,
    context: DecisionContext,
    policy: PolicyView,
    prefs: PreferencesView,
    fail_closed: bool,
    now: datetime,
    reserve: bool,
    deadline: float | None,
    store: FatigueStore,
) -> str | None:
    """One batch through the gates into ``selection``; return a reason that ends the selection."""
    suppressed = selection.suppressed
    with tracing.span("mmm.llm_safety") as span:  # FR-5: what the LLM may write, or drop
        proposed, dropped, llm_degraded = plan_enrichment(proposed)
        suppressed += dropped
        if llm_degraded and not selection.llm_degraded:
            metrics.DEGRADED_DECISIONS.labels(tenant_id, "llm_gateway").inc()
        selection.llm_degraded |= llm_degraded
        tracing.set_attributes(span, degraded_mode=llm_degraded, **{"mmm.dropped_count": len(dropped)})
    with tracing.span("mmm.policy_gate") as span:  # step 7, FR-11
        before = len(suppressed)
        if fail_closed:
            # FR-11: a safety-critical tenant without a fresh policy gets no actions at all.
            suppressed += [action.suppressed(Suppression.POLICY_FAIL_CLOSED) for action in proposed]
            proposed = []
        kept, dropped, overrides = policy_gate_with_overrides(  # FR-11: windows and exceptions too
            proposed, policy, repo_id=context.repo_id, now=now
        )
        suppressed += dropped
        selection.policy_overrides += overrides
        tracing.set_attributes(
            span, **{"mmm.dropped_count": len(suppressed) - before, "mmm.fail_closed": fail_closed}
        )
    with tracing.span("mmm.preference_fatigue_gates") as span:  # steps 7 to 9: FR-14, FR-7, FR-10
        before = len(suppressed)
        kept, dropped = preference_gate(kept, prefs, now=now)
        suppressed += dropped
        kept, dropped = quiet_hours_gate(kept, policy, now=now)
        suppressed += dropped
        kept, dropped = playbook_quiet_hours_gate(kept, now=now, tenant_timezone=policy.timezone)
        suppressed += dropped
        if kept and deadline is not None and time.perf_counter() > deadline:
            selection.latency_exceeded = True
            suppressed += [action.suppressed(Suppression.LATENCY_BUDGET) for action in kept]
            kept = []
        delivered_before = len(selection.delivered)
        _reserve(
            kept,
            selection,
            tenant_id=tenant_id,
            actor_id=actor_id,
            severity=severity,
            repo_id=context.repo_id,
            policy=policy,
            prefs=prefs,
            now=now,
            reserve=reserve,
            store=store,
        )
        tracing.set_attributes(
            span,
            **{
                "mmm.dropped_count": len(suppressed) - before,
                "mmm.kept_count": len(selection.delivered) - delivered_before,
            },
        )
    if selection.latency_exceeded:
        return Suppression.LATENCY_BUDGET
    if fail_closed:
        return Suppression.POLICY_FAIL_CLOSED
    return next((r["reason"] for r in suppressed[before:] if r["reason"] in FINAL_REASONS), None)


def _reserve(
    ranked: list[ProposedAction],
    selection: Selection,
    *,
    tenant_id: str,
    actor_id: str,
    severity: str,
    repo_id: str,
    policy: PolicyView,
    prefs: PreferencesView,
    now: datetime,
    reserve: bool,
    store: FatigueStore,
) -> None:
    """Cap per decision and take each action's fatigue slots, in priority order (FR-7), in one
    atomic step (one round trip to the store); kept ones are escalated where their playbook says
    so (FR-3) and get their surface payloads (FR-8). ``reserve=False`` only checks the counters."""
    reservations = []
    for action in ranked:
        cooldown = action.cooldown_minutes if action.cooldown_minutes is not None else policy.cooldown_minutes
        rules = action.routing
        reservations.append(
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
                # one cool-down per playbook and decision: taken by an earlier batch already
                cooldown_minutes=0 if action.playbook_id in selection.cooled else cooldown,
                playbook_max_per_hour=rules.max_per_hour if rules else None,
                playbook_max_per_day=rules.max_per_day if rules else None,
            )
        )
    room = max(policy.max_actions_per_decision - len(selection.delivered), 0)
    answers = store.reserve_many(reservations, limit=room, check_only=not reserve)
    for action, reason in zip(ranked, answers, strict=True):
        if reason is not None:
            selection.suppressed.append(action.suppressed(reason))
            continue
        rules = action.routing
        selection.cooled.add(action.playbook_id)
        if rules is not None and rules.escalate_after is not None:  # FR-3: a route change, or none
            action = escalation_route(
                action,
                answers=selection.escalations,
                tenant_id=tenant_id,
                actor_id=actor_id,
                repo_id=repo_id,
                policy=policy,
                prefs=prefs,
                now=now,
                reserve=reserve,
                store=store,
            )
        selection.delivered.append(
            replace(action, surface_payloads=surface_payloads(action, severity=severity))
        )
