"""Fatigue arithmetic (FR-7, UT-MMM-03): quiet hours, quota windows, cool-down keys.

Pure functions of ``now`` and the policy; the counters themselves live in the fatigue store
(``decisions.fatigue_store``), which applies a ``Reservation`` atomically.

Windows are fixed calendar windows in the tenant's time zone: the hour and the day an action
is delivered in. Counter keys follow ``mmm:fatigue:{tenant_id}:{actor_ref}:...`` (NFR-2), where
``actor_ref`` hashes the actor id (``mmm_project.privacy``): no Redis key holds an actor id (NFR-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mmm_project.privacy import actor_ref
from mmm_project.vocabulary import Suppression

HOUR_TTL_SECONDS = 2 * 3600  # a little over the window, so a key outlives its hour
DAY_TTL_SECONDS = 26 * 3600  # a little over the window (NFR-2: 24 h), DST days included


def in_quiet_hours(now: datetime, start: int, end: int, timezone: str) -> bool:
    """True when ``now`` falls in ``[start:00, end:00)`` local time in ``timezone``.

    A window that crosses midnight (22 -> 6) covers 22:00-23:59 and 00:00-05:59; ``start ==
    end`` means no quiet hours.
    """
    return in_quiet_window(now, start * 60, end * 60, timezone)


def in_quiet_window(now: datetime, start_minute: int, end_minute: int, timezone: str) -> bool:
    """True when ``now`` falls in ``[start_minute, end_minute)`` (minutes after local midnight,
    0..1439) in ``timezone``; crossing midnight and ``start == end`` (none) as ``in_quiet_hours``.
    The tenant's quiet hours (whole hours) and a playbook's ``routing.quiet_hours`` (FR-3) use it."""
    if start_minute == end_minute:
        return False
    local = now.astimezone(ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    if start_minute < end_minute:
        return start_minute <= minute < end_minute
    return minute >= start_minute or minute < end_minute


@dataclass(frozen=True)
class Reservation:
    """What one delivered action consumes: one slot in each counter, and a cool-down.

    ``counters`` is a tuple of ``(key, limit, ttl_seconds, reason)``; the first whose value has
    reached its limit refuses the reservation with its ``reason``. ``cooldown_key`` blocks until
    ``cooldown_until`` (epoch seconds) once reserved. ``group``: the playbook; a decision's later
    reservation of a playbook taken already skips the cool-down (``reserve_many``).
    """

    counters: tuple[tuple[str, int, int, str], ...]
    cooldown_key: str | None
    cooldown_until: float
    now: float
    group: str = ""


def reservation_for(
    *,
    tenant_id: str,
    actor_id: str,
    repo_id: str,
    playbook_id: str,
    now: datetime,
    timezone: str,
    max_per_hour: int,
    max_per_day: int,
    max_per_repo_per_day: int,
    cooldown_minutes: int,
    playbook_max_per_hour: int | None = None,
    playbook_max_per_day: int | None = None,
) -> Reservation:
    """Build the reservation for one action of ``playbook_id`` to ``actor_id`` on ``repo_id``.

    ``playbook_max_per_hour`` / ``playbook_max_per_day``: the playbook's own quotas per actor
    (its ``limits.max_actions_per_hour`` / ``max_actions_per_day``, FR-3, FR-7), counted in the
    same calendar windows and taken in the same atomic step as the tenant's; None adds no counter.
    """
    local = now.astimezone(ZoneInfo(timezone))
    hour, day = local.strftime("%Y%m%d%H"), local.strftime("%Y%m%d")
    actor = actor_ref(tenant_id, actor_id)
    base = f"mmm:fatigue:{tenant_id}:{actor}"
    counters = [
        (f"{base}:hour:{hour}", max_per_hour, HOUR_TTL_SECONDS, Suppression.QUOTA_ACTOR_HOUR),
        (f"{base}:day:{day}", max_per_day, DAY_TTL_SECONDS, Suppression.QUOTA_ACTOR_DAY),
    ]
    if playbook_max_per_hour is not None:
        counters.append(
            (
                f"{base}:playbook:{playbook_id}:hour:{hour}",
                playbook_max_per_hour,
                HOUR_TTL_SECONDS,
                Suppression.QUOTA_PLAYBOOK_HOUR,
            )
        )
    if playbook_max_per_day is not None:
        counters.append(
            (
                f"{base}:playbook:{playbook_id}:day:{day}",
                playbook_max_per_day,
                DAY_TTL_SECONDS,
                Suppression.QUOTA_PLAYBOOK_DAY,
            )
        )
    if repo_id:
        counters.append(
            (
                f"mmm:fatigue:{tenant_id}:repo:{repo_id}:day:{day}",
                max_per_repo_per_day,
                DAY_TTL_SECONDS,
                Suppression.QUOTA_REPO_DAY,
            )
        )
    cooldown_key = None
    if cooldown_minutes > 0:
        cooldown_key = f"mmm:cooldown:{tenant_id}:{playbook_id}:{actor}:{repo_id or '-'}"
    epoch = now.timestamp()
    return Reservation(
        counters=tuple(counters),
        cooldown_key=cooldown_key,
        cooldown_until=(now + timedelta(minutes=cooldown_minutes)).timestamp(),
        now=epoch,
        group=playbook_id,
    )
