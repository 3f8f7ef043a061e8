"""A playbook's own routing rules and limits (FR-3 "routing rules: surfaces, channels, quiet hours,
escalation behaviour"; FR-7), as plain data for the gates: pure functions, no Django.

From a published version's ``routing`` and ``limits`` (validated by ``playbooks.routing_spec``):

- ``routing.quiet_hours`` ``{"start": "HH:MM", "end": "HH:MM", "timezone"?}``: no action of the
  playbook is delivered in that local window (on top of the tenant's quiet hours); the zone defaults
  to the tenant's. Reason ``fatigue.playbook_quiet_hours``; other playbooks are not affected.
- ``limits.max_actions_per_hour`` / ``max_actions_per_day``: the playbook's quotas per actor, taken
  atomically with the tenant's in the fatigue store (``fatigue.playbook_quota_hour`` / ``_day``).
- ``routing.escalation`` ``{"after_unacknowledged": N, "surface": "alert"}``: once N deliveries of
  the playbook to the same actor on the same repository have gone unacknowledged, its next action
  goes to ``surface`` instead of its own surfaces (``route_reason = routing.escalated``), and the
  count starts again. It is a route change, never an extra nudge: the action, its text and every
  gate stay the same. It happens only where the tenant policy enables the surface and the actor's
  preferred surfaces (if any) include it; a Multiplier is never escalated (its consent is given in
  the IDE or CI, FR-6).

A version with none of these fields gives ``None``: the decision path costs nothing more for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from decisions.engine.fatigue import in_quiet_window
from mmm_project.privacy import actor_ref
from mmm_project.vocabulary import ActionType, Suppression

# A streak of unacknowledged deliveries older than this is forgotten (its counter expires).
ESCALATION_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class PlaybookRouting:
    """One playbook version's routing rules and quotas; minutes count from local midnight."""

    quiet_start_minute: int | None = None
    quiet_end_minute: int | None = None
    quiet_timezone: str | None = None  # None: the tenant's
    max_per_hour: int | None = None
    max_per_day: int | None = None
    escalate_after: int | None = None
    escalate_surface: str | None = None


def clock_minutes(value: str) -> int:
    """``"HH:MM"`` -> minutes after midnight (``"07:30"`` -> 450). Raises ValueError otherwise."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(value)
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(value)
    return int(hours) * 60 + int(minutes)


def playbook_routing(limits: Mapping[str, Any], routing: Mapping[str, Any]) -> PlaybookRouting | None:
    """The routing rules of a version from its stored ``limits`` and ``routing`` (already
    validated); None when it declares none (the common case)."""
    quiet = routing.get("quiet_hours") if routing else None
    escalation = routing.get("escalation") if routing else None
    per_hour, per_day = limits.get("max_actions_per_hour"), limits.get("max_actions_per_day")
    if quiet is None and escalation is None and per_hour is None and per_day is None:
        return None
    return PlaybookRouting(
        quiet_start_minute=clock_minutes(quiet["start"]) if quiet else None,
        quiet_end_minute=clock_minutes(quiet["end"]) if quiet else None,
        quiet_timezone=quiet.get("timezone") if quiet else None,
        max_per_hour=per_hour,
        max_per_day=per_day,
        escalate_after=int(escalation["after_unacknowledged"]) if escalation else None,
        escalate_surface=escalation.get("surface", "alert") if escalation else None,
    )


def playbook_quiet_hours_gate(
    actions: Iterable[Any], *, now: datetime, tenant_timezone: str
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Drop the actions whose playbook is in its own quiet hours (FR-3, FR-7); ``(kept, suppressed)``."""
    kept, suppressed = [], []
    for action in actions:
        rules = action.routing
        if rules is not None and rules.quiet_start_minute is not None:
            zone = rules.quiet_timezone or tenant_timezone
            if in_quiet_window(now, rules.quiet_start_minute, rules.quiet_end_minute, zone):
                suppressed.append(action.suppressed(Suppression.PLAYBOOK_QUIET_HOURS))
                continue
        kept.append(action)
    return kept, suppressed


def escalation_key(*, tenant_id: str, playbook_id: str, actor_id: str, repo_id: str) -> str:
    """The counter of unacknowledged deliveries of a playbook to an actor on a repository
    (``mmm:escalation:{tenant}:{playbook}:{actor_ref}:{repo or -}``; no actor id in a key, NFR-3)."""
    return f"mmm:escalation:{tenant_id}:{playbook_id}:{actor_ref(tenant_id, actor_id)}:{repo_id or '-'}"


def escalation_allowed(
    *, action_type: str, surface: str, enabled_surfaces: frozenset[str], preferred_surfaces: frozenset[str]
) -> bool:
    """Whether an escalation to ``surface`` respects consent, the tenant policy and the actor's
    preferred surfaces (FR-6, FR-11, FR-14): otherwise the action keeps its route."""
    if action_type == ActionType.MULTIPLIER:
        return False
    return surface in enabled_surfaces and (not preferred_surfaces or surface in preferred_surfaces)
