"""Why a playbook would fire or not (FR-1 explicit trigger evaluation, FR-3): the verdicts of its
triggers, actor roles and each CEL condition, for one signal and context.

Plain functions over the engine's types, no Django. The verdicts agree with ``match_playbooks``
(same compiled programs, same role rule); they only keep every step's answer instead of the first
failure, so a caller can show which conditions held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from decisions.engine.conditions import ConditionProblem, compiled_conditions
from decisions.engine.matching import PlaybookCandidate, trigger_fits, trigger_verdict
from decisions.engine.thresholds import RepoHistory
from mmm_project.vocabulary import Severity


@dataclass(frozen=True)
class Explanation:
    """One candidate's verdicts. ``conditions``: ``[{"expression", "result", "error"}]`` where
    ``result`` is true, false, or null with ``error`` naming why it could not be evaluated."""

    fired: bool
    roles_fit: bool
    conditions: tuple[dict[str, Any], ...]
    reason: str | None  # why it does not fire; None when it fires
    # a count trigger's record (``thresholds.count_record``): the signals seen and needed
    trigger_count: dict[str, Any] | None = None


def fitting_triggers(
    triggers: Iterable[Mapping[str, Any]], *, event_type: str, source: str, severity: str
) -> list[dict[str, Any]]:
    """The triggers (``{"event_type", "source", "min_severity", "actor_roles"}``) the signal fits."""
    rank = Severity.rank(severity)
    return [
        dict(t)
        for t in triggers
        if trigger_fits(
            dict(t),
            event_type=event_type,
            source=source,
            severity_rank=rank,
            min_rank=Severity.rank(t.get("min_severity", Severity.INFO.value)),
        )
    ]


def _condition_verdicts(candidate: PlaybookCandidate, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    try:
        programs = compiled_conditions(candidate.version_id, candidate.conditions)
    except ConditionProblem as exc:
        return [
            {"expression": expression, "result": None, "error": f"does not compile: {exc}"}
            for expression in candidate.conditions
        ]
    verdicts = []
    for expression, program in zip(candidate.conditions, programs, strict=True):
        try:
            result = program.execute(dict(context))
        except Exception as exc:  # noqa: BLE001 - as evaluate_all: every failure means "no match"
            verdicts.append({"expression": expression, "result": None, "error": type(exc).__name__})
            continue
        if isinstance(result, bool):
            verdicts.append({"expression": expression, "result": result, "error": None})
        else:
            verdicts.append({"expression": expression, "result": None, "error": "not a boolean"})
    return verdicts


def explain_candidate(
    candidate: PlaybookCandidate,
    *,
    actor_roles: Iterable[str],
    context: Mapping[str, Any],
    history: RepoHistory | None = None,
    signal_ts: datetime | None = None,
) -> Explanation:
    """Whether ``candidate`` fires for an actor with ``actor_roles`` in ``context`` (``as_dict()``).

    It fires when one fitting trigger admits the actor's roles (a trigger without roles admits
    anyone), has seen its ``count`` of signals in its window when it has one (``history`` and
    ``signal_ts`` as ``match_playbooks``), and every condition is true. ``reason`` names the first
    thing that failed: ``"actor_roles"``, ``"trigger count: 2 of 3 ..."``, ``"condition N is
    false"`` or ``"condition N: <error>"``.
    """
    trigger = trigger_verdict(candidate, frozenset(actor_roles), history=history, signal_ts=signal_ts)
    roles_fit = trigger.roles_fit
    verdicts = _condition_verdicts(candidate, context)
    reason = None if roles_fit else "actor_roles: the actor has none of the trigger's roles"
    if reason is None and not trigger.fires and trigger.count is not None:
        count = trigger.count
        reason = (
            f"trigger count: {count['count']} of {count['needed']} fitting signals on this repository "
            f"within {count['window_minutes']} minutes"
        )
    for index, verdict in enumerate(verdicts, start=1):
        if reason is not None:
            break
        if verdict["error"] is not None:
            reason = f"condition {index}: {verdict['error']}"
        elif verdict["result"] is False:
            reason = f"condition {index} is false"
    return Explanation(
        fired=reason is None,
        roles_fit=roles_fit,
        conditions=tuple(verdicts),
        reason=reason,
        trigger_count=trigger.count,
    )
