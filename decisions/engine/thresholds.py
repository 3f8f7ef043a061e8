"""Only after N in M (issue 15): triggers with ``count: N, window_minutes: M``.

Such a trigger fires on a signal when at least N signals fitting the trigger (its event type
pattern, source and minimum severity) reached the same repository of the tenant (any actor) within
the M minutes up to the signal's time, this signal included. Signals without a ``repo_id`` count
together, as the tenant's signals of no repository. Stored signals that failed are not counted.

It fires for *every* fitting signal from the Nth on while the window holds N, not only for the
Nth: a decision never depends on what earlier decisions did, so a Nth signal that quiet hours,
a quota or a snooze stopped does not silence the whole burst, a late or replayed signal is counted
the same way, and a backtest replaying stored signals counts exactly what a live decision counted.
Repeats are what the cool-down is for (``limits.cooldown_minutes`` of the playbook, at least the
window is advised): the Nth fires, the next ones inside the cool-down are suppressed as
``fatigue.cooldown``.

The prior signals come from the one read a decide makes anyway (``decisions.selectors
.signal_lookup``), widened by one branch per distinct trigger only when a candidate playbook of the
signal has such a trigger, and bounded: at most ``count`` prior signals (one more than needed,
to tell "the Nth" from "a later one") of at most ``MAX_WINDOW_MINUTES``. Plain functions, no
database.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mmm_project.vocabulary import Severity

MIN_TRIGGER_COUNT = 1
MAX_TRIGGER_COUNT = 50  # each decide reads at most ``count`` prior signals per trigger
MAX_WINDOW_MINUTES = 1440  # one day: the backtest's history before its window (``HISTORY``)

# ``(event_type pattern, source, min_severity)``: the signals a count is taken of.
HistoryKey = tuple[str, str, str]
# For each key, the times of the prior fitting signals of the repository, newest first.
RepoHistory = Mapping[HistoryKey, Sequence[datetime]]


@dataclass(frozen=True, slots=True)
class Threshold:
    """The ``count`` / ``window_minutes`` of one trigger, with what it counts (its fit)."""

    event_type: str
    source: str
    min_severity: str
    count: int
    window_minutes: int

    @property
    def key(self) -> HistoryKey:
        return (self.event_type, self.source, self.min_severity)


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One branch of the lookup: the latest ``limit`` prior signals fitting ``key`` of the
    repository within ``window_minutes`` before the signal's time."""

    key: HistoryKey
    window_minutes: int
    limit: int


def _bounded(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def threshold_fields(trigger: Mapping[str, Any]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Validate a trigger's ``count`` and ``window_minutes`` (both or neither); return the valid
    pair (``{}`` without one) and the problems as ``[(field, message)]`` (``playbooks.spec``)."""
    has_count, has_window = "count" in trigger, "window_minutes" in trigger
    if not has_count and not has_window:
        return {}, []
    if not has_count:
        return {}, [("window_minutes", "only allowed with count (the Nth fitting signal in the window)")]
    if not has_window:
        return {}, [("window_minutes", "is required with count")]
    problems = []
    count, window = trigger["count"], trigger["window_minutes"]
    if not _bounded(count, MIN_TRIGGER_COUNT, MAX_TRIGGER_COUNT):
        problems.append(("count", f"must be an integer between {MIN_TRIGGER_COUNT} and {MAX_TRIGGER_COUNT}"))
    if not _bounded(window, 1, MAX_WINDOW_MINUTES):
        problems.append(("window_minutes", f"must be an integer between 1 and {MAX_WINDOW_MINUTES}"))
    return ({} if problems else {"count": count, "window_minutes": window}), problems


def threshold_of(trigger: Mapping[str, Any]) -> Threshold | None:
    """The threshold of a validated trigger (``playbooks.spec``), None when it has no ``count``."""
    count = trigger.get("count")
    if count is None:
        return None
    return Threshold(
        event_type=str(trigger["event_type"]),
        source=str(trigger.get("source", "*")),
        min_severity=str(trigger.get("min_severity", "info")),
        count=int(count),
        window_minutes=int(trigger["window_minutes"]),
    )


def history_queries(thresholds: Iterable[Threshold | None]) -> tuple[HistoryQuery, ...]:
    """One query per distinct key, wide and long enough for every threshold with that key; none
    without thresholds."""
    widest: dict[HistoryKey, tuple[int, int]] = {}
    for threshold in thresholds:
        if threshold is None:
            continue
        window, limit = widest.get(threshold.key, (0, 0))
        widest[threshold.key] = (max(window, threshold.window_minutes), max(limit, threshold.count))
    return tuple(HistoryQuery(key, window, limit) for key, (window, limit) in sorted(widest.items()))


def history_of(
    signals: Sequence[tuple[datetime, str, str, str, str]],
    queries: Iterable[HistoryQuery],
    *,
    signal_id: str,
    signal_ts: datetime,
) -> RepoHistory:
    """What the lookup's history branches read (``decisions.selectors``), over signals in memory
    (the backtest): ``signals`` are the repository's stored signals as ``(ts, signal_id,
    event_type, source, severity)`` in ``ts`` order (aware datetimes); for each query, the latest
    ``limit`` fitting ones of its window up to ``signal_ts``, ``signal_id`` itself excepted, newest
    first. The cost grows with the signals of the window, not of the repository."""
    until = _aware(signal_ts)
    end = bisect.bisect_right(signals, until, key=lambda row: row[0])
    history: dict[HistoryKey, list[datetime]] = {}
    for query in queries:
        pattern, source, min_severity = query.key
        since, least = until - timedelta(minutes=query.window_minutes), Severity.rank(min_severity)
        prefix = pattern[:-1] if pattern.endswith(".*") else None  # "ci.*" -> "ci."
        found = history.setdefault(query.key, [])
        for position in range(end - 1, -1, -1):
            ts, other_id, event_type, other_source, severity = signals[position]
            if len(found) == query.limit or ts < since:
                break
            if (
                other_id != signal_id
                and (pattern in ("*", event_type) or (prefix is not None and event_type.startswith(prefix)))
                and source in ("*", other_source)
                and Severity.rank(severity) >= least
            ):
                found.append(ts)
    return history


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def count_seen(threshold: Threshold, history: RepoHistory | None, *, signal_ts: datetime) -> int:
    """How many fitting signals the window holds, this one included, counted up to
    ``threshold.count + 1`` (the lookup reads no more): ``1..count + 1``."""
    until = _aware(signal_ts)
    since = until - timedelta(minutes=threshold.window_minutes)
    prior = sum(1 for ts in (history or {}).get(threshold.key, ()) if since <= _aware(ts) <= until)
    return min(1 + prior, threshold.count + 1)


def count_record(threshold: Threshold, seen: int) -> dict[str, Any]:
    """What a decision stores and shows of a count: ``{"count", "needed", "beyond",
    "window_minutes", "event_type", "source"}``: ``count`` the signals seen, this one included,
    capped at ``needed``; ``beyond`` true when there were more (this is a later one than the Nth)."""
    return {
        "count": min(seen, threshold.count),
        "beyond": seen > threshold.count,
        "needed": threshold.count,
        "window_minutes": threshold.window_minutes,
        "event_type": threshold.event_type,
        "source": threshold.source,
    }


def ordinal(number: int) -> str:
    """``1 -> "1st"``, ``2 -> "2nd"``, ``3 -> "3rd"``, ``11 -> "11th"``, ``22 -> "22nd"``."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def count_sentence(record: Mapping[str, Any]) -> str:
    """Plain text for a count record: "This is the 3rd 'ci.check_run.failed' signal on this
    repository within 30 minutes: the playbook waits for 3.", "... a later one than the 3rd ...",
    or, not reached, "Only 2 of the 3 ... reached this repository ..."."""
    seen, needed = int(record["count"]), int(record["needed"])
    what = f"'{record['event_type']}' signal"
    source = "" if record.get("source", "*") == "*" else f" from {record['source']}"
    window = f"within {record['window_minutes']} minutes"
    if seen >= needed and record.get("beyond"):
        return (
            f"This is a later {what}{source} than the {ordinal(needed)} on this repository {window}: "
            f"the playbook fires from the {ordinal(needed)} on, its cool-down spacing the nudges."
        )
    if seen >= needed:
        return (
            f"This is the {ordinal(needed)} {what}{source} on this repository {window}: "
            f"the playbook waits for {needed}."
        )
    return (
        f"Only {seen} of the {needed} {what}s{source} the playbook waits for reached this repository "
        f"{window} (this one included)."
    )
