"""Override windows and exception approvals in the policy gate (FR-11: "respect override windows,
exception approvals, and governance rules from Policy & Config").

Shapes (tenant policy ``override_windows`` / ``exception_approvals``, or the Policy service's
snapshot fields of the same names)::

    {"window_id": "release-freeze", "starts_at": "2026-03-04T00:00:00Z", "ends_at": "...",
     "lift": ["auto_patch"], "restrict": ["multiplier"]}
    {"exception_id": "EXC-12", "restriction": "auto_patch", "expires_at": "...",
     "repo_id": "org/app", "playbook_id": "<uuid>"}          # repo_id, playbook_id: optional scope

While a window is open, the restrictions it ``lift``s are not applied and those it ``restrict``s
are added (an action type, tag or operation, as tenant ``restrictions``); tightening wins over
lifting. An unexpired exception lifts one named restriction for actions in its scope. Every
effect has a reason code: a drop ``policy.override_window:<window_id>`` (suppressed, as any
gate's), a lift ``policy.override_window_lifted`` or ``policy.exception_approved`` (recorded as
the decision's ``policy_overrides`` and in its receipt). Plain functions, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from decisions.engine.compose import ProposedAction
from decisions.engine.gates import policy_gate
from decisions.engine.policy import PolicyView
from mmm_project.vocabulary import Suppression

WINDOW_LIFTED = "policy.override_window_lifted"
EXCEPTION_APPROVED = "policy.exception_approved"


@dataclass(frozen=True)
class OverrideWindow:
    window_id: str
    starts_at: datetime
    ends_at: datetime
    lift: frozenset[str]
    restrict: frozenset[str]

    def open_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class ExceptionApproval:
    exception_id: str
    restriction: str
    expires_at: datetime
    repo_id: str = ""  # empty: any repository
    playbook_id: str = ""  # empty: any playbook

    def covers(self, restriction: str, *, action: ProposedAction, repo_id: str, now: datetime) -> bool:
        return (
            restriction == self.restriction
            and now < self.expires_at
            and self.repo_id in ("", repo_id)
            and self.playbook_id in ("", action.playbook_id)
        )


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a time zone is required")
    return moment


def parse_windows(raw: Iterable[Mapping[str, Any]]) -> tuple[OverrideWindow, ...]:
    """Windows from their JSON shape. Raises ValueError/KeyError/TypeError for a malformed one."""
    return tuple(
        OverrideWindow(
            window_id=str(w["window_id"]),
            starts_at=_moment(w["starts_at"]),
            ends_at=_moment(w["ends_at"]),
            lift=frozenset(str(r) for r in w.get("lift", [])),
            restrict=frozenset(str(r) for r in w.get("restrict", [])),
        )
        for w in raw
    )


def parse_exceptions(raw: Iterable[Mapping[str, Any]]) -> tuple[ExceptionApproval, ...]:
    """Exception approvals from their JSON shape. Raises as ``parse_windows``."""
    return tuple(
        ExceptionApproval(
            exception_id=str(e["exception_id"]),
            restriction=str(e["restriction"]),
            expires_at=_moment(e["expires_at"]),
            repo_id=str(e.get("repo_id") or ""),
            playbook_id=str(e.get("playbook_id") or ""),
        )
        for e in raw
    )


def _names(action: ProposedAction) -> set[str]:
    operation = str(action.payload.get("execution", {}).get("operation", ""))
    return {action.type, operation, *action.tags} - {""}


def policy_gate_with_overrides(
    actions: Iterable[ProposedAction], policy: PolicyView, *, repo_id: str, now: datetime
) -> tuple[list[ProposedAction], list[dict[str, Any]], list[dict[str, Any]]]:
    """``policy_gate`` with ``policy.override_windows`` and ``policy.exception_approvals`` applied.

    Returns ``(kept, suppressed, applied)``: ``applied`` lists each lift a kept action needed,
    ``{"reason", "id", "restriction", "playbook_id", "playbook_version", "action_index", "type"}``.
    Without windows or exceptions this is ``policy_gate`` exactly.
    """
    windows = [w for w in policy.override_windows if w.open_at(now)]
    if not windows and not policy.exception_approvals:
        kept, suppressed = policy_gate(actions, policy)
        return kept, suppressed, []
    kept, suppressed, applied = [], [], []
    for action in actions:
        names = _names(action)
        lifts: list[tuple[str, str, str]] = []  # (reason, id, restriction)
        for restriction in sorted(policy.restrictions & names):
            window = next((w for w in windows if restriction in w.lift), None)
            approval = next(
                (
                    e
                    for e in policy.exception_approvals
                    if e.covers(restriction, action=action, repo_id=repo_id, now=now)
                ),
                None,
            )
            if window is not None:
                lifts.append((WINDOW_LIFTED, window.window_id, restriction))
            elif approval is not None:
                lifts.append((EXCEPTION_APPROVED, approval.exception_id, restriction))
        effective = replace(policy, restrictions=policy.restrictions - {r for _, _, r in lifts})
        passed, dropped = policy_gate([action], effective)
        tightening = next((w for w in windows if w.restrict & names), None)
        if dropped:
            suppressed += dropped
        elif tightening is not None:
            suppressed.append(action.suppressed(f"{Suppression.OVERRIDE_WINDOW}:{tightening.window_id}"))
        else:
            kept += passed
            applied += [
                {
                    "reason": reason,
                    "id": ident,
                    "restriction": restriction,
                    "playbook_id": action.playbook_id,
                    "playbook_version": action.version,
                    "action_index": action.index,
                    "type": action.type,
                }
                for reason, ident, restriction in lifts
            ]
    return kept, suppressed, applied
