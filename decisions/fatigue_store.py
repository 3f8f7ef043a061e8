"""Fatigue counters (FR-7, NFR-2): atomic reservations in Redis, or in-process without Redis.

A reservation checks the cool-down and every quota counter and, only if all pass, increments
the counters and starts the cool-down, as one atomic step: two concurrent decides cannot both
take the last slot. Redis runs it as a Lua script (atomic on the server); the embedded default
runs the same steps under a lock (one process serves it).

A reservation made for an action whose decision then fails to commit is not given back: the
error goes towards fewer nudges, never more.

The store also keeps the escalation counters of playbooks that declare ``routing.escalation``
(FR-3, ``decisions.engine.playbook_routing``): ``escalate`` counts a delivery, or answers that this
one escalates and starts the count again, in one atomic step; ``acknowledge`` (an outcome) resets it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Protocol

from django.conf import settings

from decisions.engine.fatigue import Reservation
from decisions.engine.playbook_routing import ESCALATION_TTL_SECONDS
from mmm_project.vocabulary import Suppression

COOLDOWN_REASON = Suppression.COOLDOWN
CAP_REASON = Suppression.CAP_PER_DECISION

# A decision's reservations in one call, in order (the actions in priority order).
# KEYS: per reservation, its counter keys, then its cool-down key when it has one.
# ARGV: check_only (1 or 0), limit (how many may be taken), now, m (reservations); then per
# reservation: n (counters), has_cooldown (1 or 0), group, cooldown_until, cooldown_ttl,
# limits[1..n], ttls[1..n].
# Returns one code per reservation: 0 taken (or, checking, it would be), -1 an active cool-down,
# -2 not tried (``limit`` taken already), else the index of the full counter. A reservation of a
# group (playbook) taken earlier in the same call skips the cool-down: one per playbook and decision.
_RESERVE_LUA = """
local check_only = ARGV[1] == '1'
local limit = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local m = tonumber(ARGV[4])
local a, k, taken = 5, 1, 0
local out, cooled = {}, {}
for r = 1, m do
  local n = tonumber(ARGV[a])
  local group = ARGV[a + 2]
  local cooldown = nil
  if ARGV[a + 1] == '1' and not cooled[group] then cooldown = KEYS[k + n] end
  local code = 0
  if taken >= limit then
    code = -2
  elseif cooldown and tonumber(redis.call('GET', cooldown) or '0') > now then
    code = -1
  else
    for i = 1, n do
      if tonumber(redis.call('GET', KEYS[k + i - 1]) or '0') >= tonumber(ARGV[a + 4 + i]) then
        code = i
        break
      end
    end
  end
  if code == 0 then
    taken = taken + 1
    cooled[group] = true
    if not check_only then
      for i = 1, n do
        redis.call('INCR', KEYS[k + i - 1])
        redis.call('EXPIRE', KEYS[k + i - 1], tonumber(ARGV[a + 4 + n + i]))
      end
      if cooldown then
        redis.call('SET', cooldown, ARGV[a + 3], 'EX', tonumber(ARGV[a + 4]))
      end
    end
  end
  out[r] = code
  if ARGV[a + 1] == '1' then k = k + n + 1 else k = k + n end
  a = a + 5 + 2 * n
end
return out
"""


# KEYS: the escalation counter. ARGV: after, ttl, check_only (1 or 0).
# Returns 1 when this delivery escalates (the counter restarts at 0), else 0 (counted).
_ESCALATE_LUA = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  if ARGV[3] == '0' then redis.call('DEL', KEYS[1]) end
  return 1
end
if ARGV[3] == '0' then
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""


class FatigueStore(Protocol):
    def reserve(self, reservation: Reservation) -> str | None:
        """Reserve atomically; return None when reserved, else the refusing reason."""

    def check(self, reservation: Reservation) -> str | None:
        """Return what ``reserve`` would answer, consuming nothing (dry runs)."""

    def reserve_many(
        self, reservations: Sequence[Reservation], *, limit: int, check_only: bool = False
    ) -> list[str | None]:
        """A decision's reservations in one atomic step (one round trip), in order: each answer
        as ``reserve`` gives it, taking at most ``limit`` (the rest answer ``cap_per_decision``);
        a reservation whose ``group`` (playbook) was taken earlier in the call skips its
        cool-down. ``check_only`` answers the same, consuming nothing."""

    def escalate(self, key: str, *, after: int, now: float, check_only: bool = False) -> bool:
        """Count one delivery on the escalation counter ``key``; True (and the count starts
        again) when ``after`` unacknowledged deliveries were counted before it. ``check_only``
        answers the same, changing nothing."""

    def acknowledge(self, key: str) -> None:
        """The actor acknowledged a delivery: the escalation count starts again."""


def _cooldown_ttl(reservation: Reservation) -> int:
    return max(1, math.ceil(reservation.cooldown_until - reservation.now) + 60)


def _reason(reservation: Reservation, code: int) -> str | None:
    if code == 0:
        return None
    if code == -1:
        return COOLDOWN_REASON
    if code == -2:
        return CAP_REASON
    return reservation.counters[code - 1][3]


class RedisFatigueStore:
    """Counters in Redis (services mode); keys ``mmm:fatigue:...`` and ``mmm:cooldown:...``."""

    def __init__(self) -> None:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        self._redis = redis
        self._script = redis.register_script(_RESERVE_LUA)
        self._escalate = redis.register_script(_ESCALATE_LUA)

    def reserve_many(
        self, reservations: Sequence[Reservation], *, limit: int, check_only: bool = False
    ) -> list[str | None]:
        if not reservations:
            return []
        keys: list[str] = []
        args: list[float | int | str] = [int(check_only), limit, reservations[0].now, len(reservations)]
        for reservation in reservations:
            keys += [key for key, _, _, _ in reservation.counters]
            if reservation.cooldown_key:
                keys.append(reservation.cooldown_key)
            args += [
                len(reservation.counters),
                int(bool(reservation.cooldown_key)),
                reservation.group,
                reservation.cooldown_until,
                _cooldown_ttl(reservation),
            ]
            args += [limit for _, limit, _, _ in reservation.counters]
            args += [ttl for _, _, ttl, _ in reservation.counters]
        codes = self._script(keys=keys, args=args)
        return [_reason(r, int(code)) for r, code in zip(reservations, codes, strict=True)]

    def reserve(self, reservation: Reservation) -> str | None:
        return self.reserve_many([reservation], limit=1)[0]

    def check(self, reservation: Reservation) -> str | None:
        return self.reserve_many([reservation], limit=1, check_only=True)[0]

    def escalate(self, key: str, *, after: int, now: float, check_only: bool = False) -> bool:
        return bool(self._escalate(keys=[key], args=[after, ESCALATION_TTL_SECONDS, int(check_only)]))

    def acknowledge(self, key: str) -> None:
        self._redis.delete(key)

    def forget(self, *, tenant_id: str, actor_ref: str) -> int:
        """Delete the actor's counters, cool-downs and escalation counts (actor deletion); return
        how many keys."""
        redis = self._redis
        patterns = (
            f"mmm:fatigue:{tenant_id}:{actor_ref}:*",
            f"mmm:cooldown:{tenant_id}:*:{actor_ref}:*",
            f"mmm:escalation:{tenant_id}:*:{actor_ref}:*",
        )
        keys = [key for pattern in patterns for key in redis.scan_iter(match=pattern, count=500)]
        return redis.delete(*keys) if keys else 0


class LocalFatigueStore:
    """Counters in this process (embedded default): the same steps as the Lua script, locked.

    Expiry follows the reservation's own clock, so windows behave as in Redis.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at, epoch s)

    def _get(self, key: str, now: float) -> float:
        value, expires = self._values.get(key, (0.0, math.inf))
        return value if expires > now else 0.0

    def _refusal(self, reservation: Reservation) -> str | None:
        now = reservation.now
        if reservation.cooldown_key and self._get(reservation.cooldown_key, now) > now:
            return COOLDOWN_REASON
        for index, (key, limit, _, _) in enumerate(reservation.counters, start=1):
            if self._get(key, now) >= limit:
                return _reason(reservation, index)
        return None

    def reserve_many(
        self, reservations: Sequence[Reservation], *, limit: int, check_only: bool = False
    ) -> list[str | None]:
        answers: list[str | None] = []
        taken, cooled = 0, set()
        with self._lock:
            for reservation in reservations:
                if taken >= limit:
                    answers.append(CAP_REASON)
                    continue
                if reservation.group in cooled:  # one cool-down per playbook and call
                    reservation = replace(reservation, cooldown_key=None)
                refusal = self._refusal(reservation)
                answers.append(refusal)
                if refusal is None:
                    taken += 1
                    cooled.add(reservation.group)
                    if not check_only:
                        self._take(reservation)
        return answers

    def _take(self, reservation: Reservation) -> None:
        now = reservation.now
        for key, _, ttl, _ in reservation.counters:
            self._values[key] = (self._get(key, now) + 1, now + ttl)
        if reservation.cooldown_key:
            self._values[reservation.cooldown_key] = (
                reservation.cooldown_until,
                now + _cooldown_ttl(reservation),
            )

    def check(self, reservation: Reservation) -> str | None:
        return self.reserve_many([reservation], limit=1, check_only=True)[0]

    def reserve(self, reservation: Reservation) -> str | None:
        return self.reserve_many([reservation], limit=1)[0]

    def escalate(self, key: str, *, after: int, now: float, check_only: bool = False) -> bool:
        with self._lock:
            count = self._get(key, now)
            if count >= after:
                if not check_only:
                    self._values.pop(key, None)
                return True
            if not check_only:
                self._values[key] = (count + 1, now + ESCALATION_TTL_SECONDS)
            return False

    def acknowledge(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def forget(self, *, tenant_id: str, actor_ref: str) -> int:
        """Delete the actor's counters, cool-downs and escalation counts (actor deletion); return
        how many keys."""
        with self._lock:
            keys = [
                key
                for key in self._values
                if key.startswith(f"mmm:fatigue:{tenant_id}:{actor_ref}:")
                or (
                    key.startswith((f"mmm:cooldown:{tenant_id}:", f"mmm:escalation:{tenant_id}:"))
                    and f":{actor_ref}:" in key
                )
            ]
            for key in keys:
                del self._values[key]
            return len(keys)


_local_store = LocalFatigueStore()


@lru_cache(maxsize=2)
def _redis_store(url: str) -> RedisFatigueStore:
    return RedisFatigueStore()


def fatigue_store() -> FatigueStore:
    """Redis when ``REDIS_URL`` is set (shared by every web process), else the in-process store."""
    return _redis_store(settings.REDIS_URL) if settings.REDIS_URL else _local_store
