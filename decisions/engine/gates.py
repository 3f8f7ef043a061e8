"""Gates (FR-7, FR-10, FR-11, FR-14, UT-MMM-04): drop what policy or the actor does not allow.

Each gate returns ``(kept, suppressed)``; a suppressed record carries a machine-readable
``reason`` for receipts and the admin view, and is never returned to the actor. Order (in
``decisions.services``): policy, actor preferences, quiet hours, then fatigue reservations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from decisions.engine.compose import ProposedAction
from decisions.engine.fatigue import in_quiet_hours
from decisions.engine.policy import PolicyView, PreferencesView
from mmm_project.vocabulary import Suppression

Gated = tuple[list[ProposedAction], list[dict[str, Any]]]


def policy_gate(actions: Iterable[ProposedAction], policy: PolicyView) -> Gated:
    """Enabled action types and surfaces, and ``restrictions`` (action type, tag or operation)."""
    kept, suppressed = [], []
    for action in actions:
        operation = str(action.payload.get("execution", {}).get("operation", ""))
        restricted = policy.restrictions.intersection({action.type, operation, *action.tags})
        surfaces = tuple(s for s in action.surfaces if s in policy.enabled_surfaces)
        if action.type not in policy.enabled_action_types:
            suppressed.append(action.suppressed(Suppression.ACTION_TYPE_DISABLED))
        elif restricted:
            suppressed.append(action.suppressed(Suppression.RESTRICTED))
        elif not surfaces:
            suppressed.append(action.suppressed(Suppression.SURFACES_DISABLED))
        else:
            kept.append(action.with_surfaces(surfaces))
    return kept, suppressed


def preference_gate(actions: Iterable[ProposedAction], prefs: PreferencesView, *, now: datetime) -> Gated:
    """Snooze drops everything; opted-out types and muted playbooks are dropped; surfaces narrow to
    preferred ones."""
    kept, suppressed = [], []
    snoozed = prefs.snooze_until is not None and prefs.snooze_until > now
    for action in actions:
        surfaces = tuple(
            s for s in action.surfaces if not prefs.preferred_surfaces or s in prefs.preferred_surfaces
        )
        if snoozed:
            suppressed.append(action.suppressed(Suppression.SNOOZED))
        elif action.type in prefs.opt_out_categories:
            suppressed.append(action.suppressed(Suppression.OPTED_OUT))
        elif prefs.muted(action.playbook_id, now):
            suppressed.append(action.suppressed(Suppression.MUTED_PLAYBOOK))
        elif not surfaces:
            suppressed.append(action.suppressed(Suppression.SURFACES_NOT_PREFERRED))
        else:
            kept.append(action.with_surfaces(surfaces))
    return kept, suppressed


def quiet_hours_gate(actions: Iterable[ProposedAction], policy: PolicyView, *, now: datetime) -> Gated:
    """During the tenant's quiet hours (in its time zone) no action is delivered (FR-7)."""
    actions = list(actions)
    if in_quiet_hours(now, policy.quiet_hours_start, policy.quiet_hours_end, policy.timezone):
        return [], [action.suppressed(Suppression.QUIET_HOURS) for action in actions]
    return actions, []
