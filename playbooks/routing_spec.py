"""A playbook's ``routing`` and ``limits`` sections (FR-3 routing rules, FR-7 fatigue) and their
validation; ``playbooks.spec`` reports each problem with its field path. How the engine applies
them: ``decisions.engine.playbook_routing``; the reference: ``docs/playbook-routing.md``.

::

    routing:                                  # optional
      quiet_hours:                            # on top of the tenant's quiet hours
        start: "22:00"                        # "HH:MM" local time, 00:00 to 23:59
        end: "07:00"                          # may cross midnight; start == end: none
        timezone: Europe/Berlin               # optional IANA zone; the tenant's otherwise
      escalation:
        after_unacknowledged: 3               # 1..100 deliveries to the actor on the repository
        surface: alert                        # optional; the only escalation surface is alert
    limits:                                   # optional
      cooldown_minutes: 120                   # 0..43200; the tenant policy's otherwise
      max_actions_per_hour: 1                 # 1..1000 actions of this playbook per actor
      max_actions_per_day: 3                  # 1..10000 actions of this playbook per actor

Normalised: ``escalation.surface`` is filled in.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from decisions.engine.playbook_routing import clock_minutes
from mmm_project.vocabulary import Surface

ROUTING_KEYS = {"quiet_hours", "escalation"}
QUIET_HOURS_KEYS = {"start", "end", "timezone"}
ESCALATION_KEYS = {"after_unacknowledged", "surface"}
ESCALATION_SURFACES = (Surface.ALERT.value,)  # FR-8: the alerting surface is the escalation route
LIMIT_KEYS = {"cooldown_minutes", "max_actions_per_hour", "max_actions_per_day"}
LIMIT_RANGES = {
    "cooldown_minutes": (0, 60 * 24 * 30),
    "max_actions_per_hour": (1, 1000),
    "max_actions_per_day": (1, 10000),
}
MAX_ESCALATION_AFTER = 100

Found = list[tuple[str, str]]  # (field path, message)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _unknown(value: dict, allowed: set[str], path: str, found: Found) -> None:
    found += [(f"{path}.{key}", "unknown field") for key in sorted(set(value) - allowed)]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clock(value: Any, path: str, found: Found) -> str | None:
    """``"HH:MM"`` (00:00 to 23:59) as given; None (and a problem) otherwise."""
    if isinstance(value, str):
        try:
            clock_minutes(value)
        except ValueError:
            pass
        else:
            return value
    found.append((path, 'must be a time "HH:MM" (00:00 to 23:59)'))
    return None


def _quiet_hours(value: Any, found: Found) -> dict[str, Any] | None:
    path = "routing.quiet_hours"
    if not isinstance(value, dict):
        found.append((path, "must be an object with start and end"))
        return None
    _unknown(value, QUIET_HOURS_KEYS, path, found)
    out: dict[str, Any] = {}
    for key in ("start", "end"):
        if key not in value:
            found.append((f"{path}.{key}", "is required"))
        else:
            out[key] = _clock(value[key], f"{path}.{key}", found)
    if "timezone" in value:
        zone = value["timezone"]
        if not isinstance(zone, str) or zone not in _zones():
            found.append((f"{path}.timezone", "must be an IANA time zone such as Europe/Berlin"))
        out["timezone"] = zone
    return out


def _escalation(value: Any, found: Found) -> dict[str, Any] | None:
    path = "routing.escalation"
    if not isinstance(value, dict):
        found.append((path, "must be an object with after_unacknowledged"))
        return None
    _unknown(value, ESCALATION_KEYS, path, found)
    after = value.get("after_unacknowledged")
    if after is None:
        found.append((f"{path}.after_unacknowledged", "is required"))
    elif not _is_int(after) or not 1 <= after <= MAX_ESCALATION_AFTER:
        found.append(
            (f"{path}.after_unacknowledged", f"must be an integer between 1 and {MAX_ESCALATION_AFTER}")
        )
    surface = value.get("surface", Surface.ALERT.value)
    if surface not in ESCALATION_SURFACES:
        found.append((f"{path}.surface", f"must be one of {', '.join(ESCALATION_SURFACES)}"))
    return {"after_unacknowledged": after, "surface": surface}


def validate_routing(value: Any) -> tuple[dict[str, Any], Found]:
    """The ``routing`` section normalised, and its problems ``[(field, message)]``."""
    found: Found = []
    if value is None:
        return {}, found
    if not isinstance(value, dict):
        return {}, [("routing", "must be an object")]
    _unknown(value, ROUTING_KEYS, "routing", found)
    routing: dict[str, Any] = {}
    if "quiet_hours" in value:
        routing["quiet_hours"] = _quiet_hours(value["quiet_hours"], found)
    if "escalation" in value:
        routing["escalation"] = _escalation(value["escalation"], found)
    return routing, found


def validate_limits(value: Any) -> tuple[dict[str, Any], Found]:
    """The ``limits`` section, and its problems ``[(field, message)]``."""
    found: Found = []
    if value is None:
        return {}, found
    if not isinstance(value, dict):
        return {}, [("limits", "must be an object")]
    _unknown(value, LIMIT_KEYS, "limits", found)
    limits = {}
    for key, (low, high) in LIMIT_RANGES.items():
        if key in value:
            number = value[key]
            if not _is_int(number) or not low <= number <= high:
                found.append((f"limits.{key}", f"must be an integer between {low} and {high}"))
            limits[key] = number
    return limits, found
