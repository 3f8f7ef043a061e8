"""Dry run of a playbook draft (FR-13): what it would have proposed and what the gates would drop.

Runs the real decision steps (``decisions.services.evaluate.evaluate``) with the draft as the only
candidate, the tenant's policy and the actor's preferences, and fatigue *checked* but never
reserved. Nothing is written: no signal, decision, receipt or counter.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from decisions.engine.compose import ProposedAction
from decisions.engine.explain import fitting_triggers
from decisions.engine.matching import PlaybookCandidate
from decisions.engine.thresholds import Threshold, threshold_of
from decisions.models import Signal
from decisions.services.evaluate import DecideInput, decide_input, evaluate
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from playbooks.services import raise_problems
from playbooks.spec import problems_output, validate_playbook

DRY_RUN_ID = "dry-run"


def action_preview(action: ProposedAction) -> dict[str, Any]:
    """A proposed action as a preview shows it: ``{"type", "surfaces", "payload",
    "surface_payloads", "requires_consent", "requires_dual_channel"}`` (nothing is stored)."""
    return {
        "type": action.type,
        "surfaces": list(action.surfaces),
        "payload": action.payload,
        "surface_payloads": action.surface_payloads,
        "requires_consent": action.requires_consent,
        "requires_dual_channel": action.requires_dual_channel,
    }


def suppressed_preview(record: dict[str, Any]) -> dict[str, Any]:
    """A gate's drop as a preview shows it: ``{"type", "action_index", "reason"}``."""
    return {
        "type": record.get("type"),
        "action_index": record.get("action_index"),
        "reason": record["reason"],
    }


def _stored_inputs(principal: Principal, signal_ids: list[str]) -> list[DecideInput]:
    signals = {
        s.signal_id: s
        for s in Signal.objects.for_tenant(principal.tenant_id)
        .filter(signal_id__in=signal_ids)
        .select_related("decision")
    }
    missing = [sid for sid in signal_ids if sid not in signals]
    if missing:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "Unknown signal ids.",
            fields={"signal_ids": [f"unknown: {', '.join(missing)}"]},
        )
    inputs = []
    for signal_id in signal_ids:
        row = signals[signal_id]
        recorded = getattr(row, "decision", None)
        # Replayed with the context its decision recorded (roles, repository...), when it has one.
        inputs.append(DecideInput.from_signal(row, context=recorded.context if recorded else {}))
    return inputs


def dry_run(
    *,
    principal: Principal,
    playbook: dict[str, Any],
    signal: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    actor_id: str | None = None,
    signal_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Evaluate a draft against one signal or stored signals; return results, write nothing.

    Returns ``{"results": [{"signal_id", "matched", "reason", "actions", "suppressed"}],
    "problems": [{"field", "message"}]}``.

    Raises:
        ApplicationError: ``VALIDATION_ERROR`` for a structurally invalid draft (every problem
            listed) or unknown ``signal_ids``.
    """
    spec, problems = validate_playbook(playbook)
    if spec is None:
        raise_problems(problems)
    now = timezone.now()
    if signal is not None:
        request = {"tenant_id": principal.tenant_id, "context": context or {}, "signal": signal}
        if actor_id:
            request["actor_id"] = actor_id
        inputs = [decide_input(principal=principal, request=request, now=now)]
    else:
        inputs = _stored_inputs(principal, signal_ids or [])

    results = []
    for data in inputs:
        fitting = fitting_triggers(
            spec["triggers"],
            event_type=data.signal["event_type"],
            source=data.signal["source"],
            severity=data.signal["severity"],
        )
        entry: dict[str, Any] = {
            "signal_id": data.signal["signal_id"],
            "matched": False,
            "reason": None,
            "actions": [],
            "suppressed": [],
        }
        if not fitting:
            entry["reason"] = "no trigger fits the signal's event type, source and severity"
            results.append(entry)
            continue
        candidate = PlaybookCandidate(
            playbook_id=DRY_RUN_ID,
            playbook_name=spec["name"],
            version_id=DRY_RUN_ID,
            version=0,
            trigger_roles=tuple(tuple(t["actor_roles"]) for t in fitting),
            conditions=tuple(spec["conditions"]),
            actions=tuple(spec["actions"]),
            limits=spec["limits"],
            trigger_thresholds=_thresholds(fitting),
            routing=spec["routing"],
        )
        evaluation = evaluate(data, candidates=[candidate], now=now, reserve=False)
        entry["matched"] = bool(evaluation.matched)
        errors = [s["reason"] for s in evaluation.suppressed if "action_index" not in s and "count" not in s]
        if not evaluation.matched:
            entry["reason"] = (
                errors[0] if errors else "the actor's roles, trigger count or conditions do not hold"
            )
        entry["actions"] = [action_preview(a) for a in evaluation.delivered]
        entry["suppressed"] = [suppressed_preview(s) for s in evaluation.suppressed if "action_index" in s]
        results.append(entry)
    return {"results": results, "problems": problems_output(problems)}


def _thresholds(fitting: list[dict[str, Any]]) -> tuple[Threshold | None, ...]:
    """The fitting triggers' counts (issue 15), none when no trigger has one."""
    return tuple(map(threshold_of, fitting)) if any("count" in t for t in fitting) else ()
