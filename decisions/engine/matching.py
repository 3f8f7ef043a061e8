"""Playbook matching (FR-3, UT-MMM-01): trigger checks, then CEL conditions.

Candidates arrive pre-filtered by the trigger index on ``(tenant, event_type pattern, source,
min severity)``; this step checks actor roles and conditions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cel

from decisions.engine.conditions import ConditionProblem, compiled_conditions, evaluate_all
from decisions.engine.context import ON_DEMAND_ROOTS, references

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaybookCandidate:
    """A published playbook version whose trigger fits the signal's type, source and severity.

    ``trigger_roles`` holds each fitting trigger's ``actor_roles`` (empty tuple = anyone).
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

    @cached_property
    def on_demand_roots(self) -> frozenset[str]:
        """The context roots with a read of their own (``ON_DEMAND_ROOTS``) this playbook uses;
        worked out once per candidate (candidates are cached per process with their version)."""
        return frozenset(r for r in ON_DEMAND_ROOTS if references(self.conditions, self.actions, r))


@dataclass(frozen=True)
class MatchResult:
    matched: tuple[PlaybookCandidate, ...]
    errors: tuple[dict[str, Any], ...]  # {"playbook_id", "playbook_version", "reason"}


def event_type_patterns(event_type: str) -> list[str]:
    """The trigger patterns that match ``event_type``: itself, each prefix with ``.*``, and ``*``.

    ``"ci.check_run.failed"`` -> ``["ci.check_run.failed", "ci.check_run.*", "ci.*", "*"]``.
    """
    parts = event_type.split(".")
    prefixes = [".".join(parts[:i]) + ".*" for i in range(len(parts) - 1, 0, -1)]
    return [event_type, *prefixes, "*"]


def _roles_fit(candidate: PlaybookCandidate, actor_roles: frozenset[str]) -> bool:
    return any(not roles or actor_roles.intersection(roles) for roles in candidate.trigger_roles)


def match_playbooks(
    candidates: list[PlaybookCandidate], *, actor_roles: frozenset[str], context: dict[str, Any]
) -> MatchResult:
    """Return the candidates whose roles and conditions hold for ``context``.

    A condition that fails to compile or evaluate drops only its playbook, with the reason
    logged and returned in ``errors``; the decision goes on with the others.
    """
    matched, errors = [], []
    # Converted to CEL values once per decision, not once per condition (about 200 us each).
    activation = cel.Context(variables=context)
    for candidate in candidates:
        if not _roles_fit(candidate, actor_roles):
            continue
        try:
            programs = compiled_conditions(candidate.version_id, candidate.conditions)
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
    return MatchResult(matched=tuple(matched), errors=tuple(errors))


def trigger_fits(
    trigger: dict[str, Any], *, event_type: str, source: str, severity_rank: int, min_rank: int
) -> bool:
    """What the trigger index answers, for one trigger of a playbook not in the index (dry runs)."""
    return (
        trigger["event_type"] in event_type_patterns(event_type)
        and trigger["source"] in (source, "*")
        and min_rank <= severity_rank
    )
