"""Explicit trigger evaluation (FR-1, ``POST /v1/mmm/triggers/evaluate``): which of the tenant's
published playbooks a signal would trigger, and why.

The Edge Agent or CI asks before acting ("pre-commit evaluation"). The real decision steps run
(``decisions.services.evaluate.evaluate``: context, policy, matching, composition, gates) with
fatigue *checked* but never reserved, exactly as a playbook dry run does; nothing is written: no
signal, decision, action, receipt or fatigue counter.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from decisions.engine.explain import explain_candidate, fitting_triggers
from decisions.engine.thresholds import count_sentence, history_queries
from decisions.selectors import repo_signal_history
from decisions.services.dry_run import action_preview, suppressed_preview
from decisions.services.evaluate import decide_input, evaluate
from mmm_project.auth.principal import Principal
from playbooks.selectors import playbook_candidates, version_triggers


def trigger_evaluate(*, principal: Principal, request: dict[str, Any]) -> dict[str, Any]:
    """Evaluate a signal against the caller's tenant's published playbooks; write nothing.

    ``request`` is a validated decide body (spec 11.1: ``tenant_id``, ``actor_id``,
    ``actor_type``, ``context``, ``signal``). Returns::

        {"tenant_id", "actor_id", "actor_type",
         "signal": {"signal_id", "source", "event_type", "severity"},
         "policy_snapshot_id", "degraded_mode",
         "playbooks_fired": [entry], "playbooks_not_fired": [entry]}

    where an entry is ``{"playbook_id", "playbook_version", "name", "matched_triggers",
    "roles_fit", "trigger_count", "conditions": [{"expression", "result", "error"}], "reason",
    "actions", "suppressed", "policy_overrides"}``: ``trigger_count`` is null, or for a count
    trigger (issue 15) ``{"count", "needed", "beyond", "window_minutes", "event_type", "source",
    "text"}``, the fitting signals of the repository seen in the window (this one included) and
    needed; ``actions`` are those that would reach the actor now
    (after policy, preferences, quiet hours, priority cap and fatigue), ``suppressed`` those a
    gate would drop and why, ``policy_overrides`` the override windows or exception approvals
    that lifted a restriction for them (FR-11). Only playbooks with a trigger that fits the
    signal's event type, source and severity are listed.

    Raises:
        ApplicationError: ``FORBIDDEN`` (403) for another tenant's ``tenant_id`` or an
            ``actor_type`` that contradicts the token (as ``decide_input``); ``POLICY_UNAVAILABLE``
            (503) as a decision would.
    """
    now = timezone.now()
    data = decide_input(principal=principal, request=request, now=now)
    signal = data.signal
    candidates = playbook_candidates(
        tenant_id=data.tenant_id,
        event_type=signal["event_type"],
        source=signal["source"],
        severity=signal["severity"],
    )
    history = repo_signal_history(  # no query without a count trigger
        tenant_id=data.tenant_id,
        repo_id=str(data.request_context.get("repo_id") or ""),
        signal_id=str(signal["signal_id"]),
        signal_ts=data.signal_ts,
        queries=history_queries(t for c in candidates for t in c.trigger_thresholds),
    )
    evaluation = evaluate(data, candidates=candidates, history=history, now=now, reserve=False)
    triggers = version_triggers(tenant_id=data.tenant_id, version_ids=[c.version_id for c in candidates])
    context = evaluation.context
    fired, not_fired = [], []
    for candidate in candidates:
        explanation = explain_candidate(
            candidate,
            actor_roles=context.actor_roles,
            context=context.as_dict(),
            history=history,
            signal_ts=data.signal_ts,
        )
        count = explanation.trigger_count
        mine = candidate.playbook_id
        entry = {
            "playbook_id": mine,
            "playbook_version": candidate.version,
            "name": candidate.playbook_name,
            "matched_triggers": fitting_triggers(
                triggers.get(candidate.version_id, []),
                event_type=signal["event_type"],
                source=signal["source"],
                severity=signal["severity"],
            ),
            "roles_fit": explanation.roles_fit,
            "trigger_count": {**count, "text": count_sentence(count)} if count else None,
            "conditions": list(explanation.conditions),
            "reason": explanation.reason,
            "actions": [action_preview(a) for a in evaluation.delivered if a.playbook_id == mine],
            "suppressed": [
                suppressed_preview(s)
                for s in evaluation.suppressed
                if s.get("playbook_id") == mine and "action_index" in s
            ],
            "policy_overrides": [o for o in evaluation.policy_overrides if o["playbook_id"] == mine],
        }
        (fired if explanation.fired else not_fired).append(entry)
    return {
        "tenant_id": data.tenant_id,
        "actor_id": data.actor_id,
        "actor_type": data.actor_type,
        "signal": {key: signal[key] for key in ("signal_id", "source", "event_type", "severity")},
        "policy_snapshot_id": evaluation.policy.snapshot_id,
        "degraded_mode": evaluation.degraded_mode,
        "playbooks_fired": fired,
        "playbooks_not_fired": not_fired,
    }
