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
    hour = now.astimezone(ZoneInfo(timezone)).hour
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


@dataclass(frozen=True)
class Reservation:
    """What one delivered action consumes: one slot in each counter, and a cool-down.

    ``counters`` is a tuple of ``(key, limit, ttl_seconds, reason)``; the first whose value has
    reached its limit refuses the reservation with its ``reason``. ``cooldown_key`` blocks until
    ``cooldown_until`` (epoch seconds) once reserved.
    """

    counters: tuple[tuple[str, int, int, str], ...]
    cooldown_key: str | None
    cooldown_until: float
    now: float


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
) -> Reservation:
    """Build the reservation for one action of ``playbook_id`` to ``actor_id`` on ``repo_id``."""
    local = now.astimezone(ZoneInfo(timezone))
    hour, day = local.strftime("%Y%m%d%H"), local.strftime("%Y%m%d")
    actor = actor_ref(tenant_id, actor_id)
    base = f"mmm:fatigue:{tenant_id}:{actor}"
    counters = [
        (f"{base}:hour:{hour}", max_per_hour, HOUR_TTL_SECONDS, Suppression.QUOTA_ACTOR_HOUR),
        (f"{base}:day:{day}", max_per_day, DAY_TTL_SECONDS, Suppression.QUOTA_ACTOR_DAY),
    ]
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
    )
