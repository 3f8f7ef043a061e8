"""The effective tenant policy and actor preferences, as plain data for the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PolicyView:
    """Tenant MMM policy (FR-11, FR-13) as the engine uses it; ``snapshot_id`` names this content."""

    snapshot_id: str
    enabled_action_types: frozenset[str]
    enabled_surfaces: frozenset[str]
    restrictions: frozenset[str]
    max_actions_per_hour: int
    max_actions_per_day: int
    max_actions_per_repo_per_day: int
    max_actions_per_decision: int
    cooldown_minutes: int
    quiet_hours_start: int
    quiet_hours_end: int
    timezone: str
    safety_critical: bool
    priorities: dict[str, float]
    dual_channel_tags: frozenset[str]
    version_ids: tuple[str, ...] = ()  # the Policy service's version ids, else the snapshot id
    # FR-11: ``decisions.engine.overrides`` OverrideWindow and ExceptionApproval values
    override_windows: tuple[Any, ...] = ()
    exception_approvals: tuple[Any, ...] = ()

    @property
    def quiet_hours(self) -> dict[str, object]:
        return {"start": self.quiet_hours_start, "end": self.quiet_hours_end, "timezone": self.timezone}


@dataclass(frozen=True)
class PreferencesView:
    """Actor preferences (FR-14): opt-out action types, snooze, preferred surfaces (empty = all),
    and the playbooks muted by "less like this" (``{playbook_id: until}``, issue 15)."""

    opt_out_categories: frozenset[str]
    preferred_surfaces: frozenset[str]
    snooze_until: datetime | None
    muted_playbooks: Mapping[str, datetime] = field(default_factory=dict)

    def muted(self, playbook_id: str, now: datetime) -> bool:
        until = self.muted_playbooks.get(playbook_id)
        return until is not None and until > now
