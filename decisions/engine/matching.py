"""Playbook matching (FR-3, UT-MMM-01): trigger checks, then CEL conditions.

Candidates arrive pre-filtered by the trigger index on ``(tenant, event_type pattern, source,
min severity)``; this step checks actor roles and conditions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import cel

from decisions.engine.conditions import ConditionProblem, compiled_conditions, evaluate_all
from decisions.engine.context import CONTEXT_ROOTS, ON_DEMAND_ROOTS, references
from decisions.engine.thresholds import RepoHistory, Threshold, count_record, count_seen

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaybookCandidate:
    """A published playbook version whose trigger fits the signal's type, source and severity.

    ``trigger_roles`` holds each fitting trigger's ``actor_roles`` (empty tuple = anyone);
    ``trigger_thresholds`` the same triggers' ``count``/``window_minutes`` (None without; the whole
    tuple empty when no fitting trigger has one).
    """

    playbook_id: str
    playbook_name: str
    version_id: str
    version: int
    trigger_roles: tuple[tuple[str, ...], ...]
    conditions: tuple[str, ...]
    actions: tuple[dict[str, Any], ...]
    limits: dict[str, Any] = field(default_factory=dict)
    routing: dict[str, Any] = field(default_factory=dict)  # quiet hours, escalation (FR-3)
    experiment_id: str | None = None  # set when an experiment variant shaped the actions
    variant: str = ""
    trigger_thresholds: tuple[Threshold | None, ...] = ()

    @cached_property
    def admits_anyone(self) -> bool:
        """A fitting trigger names no roles: any actor's roles fit (worked out once per candidate)."""
        return any(not roles for roles in self.trigger_roles)

    @cached_property
    def on_demand_roots(self) -> frozenset[str]:
        """The context roots with a read of their own (``ON_DEMAND_ROOTS``) this playbook uses;
        worked out once per candidate (candidates are cached per process with their version)."""
        return frozenset(r for r in ON_DEMAND_ROOTS if references(self.conditions, self.actions, r))

    @cached_property
    def condition_roots(self) -> frozenset[str]:
        """The context roots this playbook's conditions read (none when they do not compile: it
        is dropped then): the CEL activation of a decision holds only those (``match_playbooks``)."""
        try:
            programs = self.programs
        except ConditionProblem:
            return frozenset()
        return frozenset(name for program in programs for name in program.variables()) & CONTEXT_ROOTS

    @cached_property
    def programs(self) -> tuple[cel.Program, ...]:
        """The conditions' CEL programs (``compiled_conditions``), kept on the candidate: a decision
        of 1,000 matching playbooks skips 1,000 cache look-ups. Raises ``ConditionProblem`` each
        time it is read when a condition does not compile."""
        return compiled_conditions(self.version_id, self.conditions)

    @cached_property
    def fired(self) -> dict[str, Any]:
        """``{"playbook_id", "playbook_version"}``, this playbook's entry in ``playbooks_fired``:
        made once and shared by the decisions it fires in, so it is never changed."""
        return {"playbook_id": self.playbook_id, "playbook_version": self.version}


@dataclass(frozen=True)
class MatchResult:
    matched: tuple[PlaybookCandidate, ...]
    errors: tuple[dict[str, Any], ...]  # {"playbook_id", "playbook_version", "reason"}
    # playbook_id -> the count record (``thresholds.count_record``) of a playbook matched by a count
    trigger_counts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TriggerVerdict:
    """Whether a candidate's fitting triggers admit the actor and, for counts, were reached.

    ``count``: the count record of the trigger that fired by a count, or when none fired, of the
    closest count trigger that admits the actor (what ``triggers/evaluate`` shows); None otherwise.
    """

    roles_fit: bool
    fires: bool
    count: dict[str, Any] | None


def event_type_patterns(event_type: str) -> list[str]:
    """The trigger patterns that match ``event_type``: itself, each prefix with ``.*``, and ``*``.

    ``"ci.check_run.failed"`` -> ``["ci.check_run.failed", "ci.check_run.*", "ci.*", "*"]``.
    """
    parts = event_type.split(".")
    prefixes = [".".join(parts[:i]) + ".*" for i in range(len(parts) - 1, 0, -1)]
    return [event_type, *prefixes, "*"]


def trigger_verdict(
    candidate: PlaybookCandidate,
    actor_roles: frozenset[str],
    *,
    history: RepoHistory | None = None,
    signal_ts: datetime | None = None,
) -> TriggerVerdict:
    """One fitting trigger must admit the actor's roles and, with a ``count``, have seen that many
    fitting signals of the repository in its window (``decisions.engine.thresholds``). A trigger
    without a count wins over a count trigger (nothing to explain); among count triggers the first
    reached, else the one closest to its count, is reported."""
    thresholds = candidate.trigger_thresholds
    roles_fit, best, best_gap = False, None, None
    for position, roles in enumerate(candidate.trigger_roles):
        if roles and not actor_roles.intersection(roles):
            continue
        roles_fit = True
        threshold = thresholds[position] if position < len(thresholds) else None
        if threshold is None:
            return TriggerVerdict(roles_fit=True, fires=True, count=None)
        seen = count_seen(threshold, history, signal_ts=signal_ts) if signal_ts else 1
        gap = max(threshold.count - seen, 0)
        if best_gap is None or gap < best_gap:
            best, best_gap = count_record(threshold, seen), gap
    return TriggerVerdict(roles_fit=roles_fit, fires=best_gap == 0, count=best)


def match_playbooks(
    candidates: list[PlaybookCandidate],
    *,
    actor_roles: frozenset[str],
    context: dict[str, Any],
    history: RepoHistory | None = None,
    signal_ts: datetime | None = None,
) -> MatchResult:
    """Return the candidates whose roles, trigger counts and conditions hold for ``context``.

    ``history``: the prior fitting signals of the repository for the candidates' count triggers
    (``decisions.selectors.signal_lookup``), ``signal_ts`` the signal's time; a count trigger
    without them has seen only this signal. A condition that fails to compile or evaluate drops
    only its playbook, with the reason logged and returned in ``errors``; the decision goes on
    with the others.
    """
    matched, errors, counts = [], [], {}
    # Converted to CEL values once per decision, not once per condition, and only the roots the
    # candidates' conditions read: the whole context costs ~100 us to convert, one root ~15 us.
    roots = frozenset().union(*(candidate.condition_roots for candidate in candidates))
    activation = cel.Context(variables={root: context[root] for root in roots if root in context})
    for candidate in candidates:
        if candidate.trigger_thresholds:
            verdict = trigger_verdict(candidate, actor_roles, history=history, signal_ts=signal_ts)
            if not verdict.fires:
                continue
            if verdict.count is not None:
                counts[candidate.playbook_id] = verdict.count
        elif not candidate.admits_anyone and not any(map(actor_roles.intersection, candidate.trigger_roles)):
            continue
        try:
            programs = candidate.programs
        except ConditionProblem as exc:
            ok, reason = False, f"condition does not compile: {exc}"
        else:
            ok, reason = evaluate_all(programs, activation)
        if reason is not None:
            logger.warning(
                "playbook dropped",
                extra={
                    "playbook_id": candidate.playbook_id,
                    "playbook_version": candidate.version,
                    "reason": reason,
                },
            )
            errors.append(
                {
                    "playbook_id": candidate.playbook_id,
                    "playbook_version": candidate.version,
                    "reason": reason,
                }
            )
        if ok:
            matched.append(candidate)
        else:
            counts.pop(candidate.playbook_id, None)
    return MatchResult(matched=tuple(matched), errors=tuple(errors), trigger_counts=counts)


def trigger_fits(
    trigger: dict[str, Any], *, event_type: str, source: str, severity_rank: int, min_rank: int
) -> bool:
    """What the trigger index answers, for one trigger of a playbook not in the index (dry runs)."""
    return (
        trigger["event_type"] in event_type_patterns(event_type)
        and trigger["source"] in (source, "*")
        and min_rank <= severity_rank
    )
