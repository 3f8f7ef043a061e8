"""Context assembly with data minimisation (FR-2, NFR-3).

The context holds only: the actor's id, type and roles; repository id, branch, file path and
environment; the signal's metadata; the last 10 recent signals' id, event type, severity and time;
the CI results among them; the tenant's recent incidents (id, status, severity, repository,
environment, time: Health & Reliability, or the tenant's own ``incident.*`` signals); the signal's
time bucket in the tenant's time zone; quiet hours and the tenant's enabled action types and
surfaces. No payloads, no source code, no e-mail addresses or names: ``assemble_context`` copies
named fields, it never passes a dict on. The reference for playbook authors is
``docs/playbook-context.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RECENT_SIGNALS_LIMIT = 10
RECENT_INCIDENTS_LIMIT = 10
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The names CEL conditions and templates may reference (their roots).
CONTEXT_ROOTS = frozenset(
    {
        "signal",
        "actor",
        "context",
        "recent_signals",
        "recent_ci_results",
        "recent_incidents",
        "time_bucket",
        "tenant",
    }
)
# Roots whose data costs a read of its own (a peer call or a query): only gathered for a decision
# when one of its candidate playbooks references them (``references``).
ON_DEMAND_ROOTS = frozenset({"recent_incidents"})


@dataclass(frozen=True)
class SignalMeta:
    signal_id: str
    source: str
    event_type: str
    severity: str
    ts: str  # ISO 8601, UTC


@dataclass(frozen=True)
class RecentSignal:
    signal_id: str
    event_type: str
    severity: str
    ts: str  # ISO 8601, UTC; "" when the source did not say


@dataclass(frozen=True)
class Incident:
    """An incident affecting the tenant (FR-2): ids and state only, never its title or text."""

    incident_id: str
    status: str  # e.g. "firing", "resolved"
    severity: str
    repo_id: str
    environment: str
    ts: str  # ISO 8601, UTC: when it started (or changed state)


@dataclass(frozen=True)
class DecisionContext:
    """The only data a decision is made from. ``as_dict()`` is what CEL and templates see."""

    tenant_id: str
    actor_id: str
    actor_type: str
    actor_roles: tuple[str, ...]
    repo_id: str
    branch: str
    file_path: str
    environment: str
    signal: SignalMeta
    recent_signals: tuple[RecentSignal, ...]
    recent_incidents: tuple[Incident, ...]
    time_bucket: dict[str, Any]
    quiet_hours: dict[str, Any]
    enabled_action_types: tuple[str, ...]
    enabled_surfaces: tuple[str, ...]
    policy_snapshot_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Shape: ``{"signal": {...}, "actor": {...}, "context": {...}, "recent_signals": [...],
        "recent_ci_results": [...], "recent_incidents": [...], "time_bucket": {...},
        "tenant": {...}}`` with strings, numbers, lists and dicts only. Built once per context
        (matching, composition and the stored decision all read it); callers never change it."""
        built = self.__dict__.get("_as_dict")
        if built is None:
            built = self._build_dict()
            object.__setattr__(self, "_as_dict", built)
        return built

    def _build_dict(self) -> dict[str, Any]:
        return {
            "signal": {
                "signal_id": self.signal.signal_id,
                "source": self.signal.source,
                "event_type": self.signal.event_type,
                "severity": self.signal.severity,
                "ts": self.signal.ts,
            },
            "actor": {"id": self.actor_id, "type": self.actor_type, "roles": list(self.actor_roles)},
            "context": {
                "repo_id": self.repo_id,
                "branch": self.branch,
                "file_path": self.file_path,
                "environment": self.environment,
            },
            "recent_signals": [
                {"signal_id": s.signal_id, "event_type": s.event_type, "severity": s.severity, "ts": s.ts}
                for s in self.recent_signals
            ],
            "recent_ci_results": ci_results(self.recent_signals),
            "recent_incidents": [
                {
                    "incident_id": i.incident_id,
                    "status": i.status,
                    "severity": i.severity,
                    "repo_id": i.repo_id,
                    "environment": i.environment,
                    "ts": i.ts,
                }
                for i in self.recent_incidents
            ],
            "time_bucket": dict(self.time_bucket),
            "tenant": {
                "quiet_hours": dict(self.quiet_hours),
                "enabled_action_types": list(self.enabled_action_types),
                "enabled_surfaces": list(self.enabled_surfaces),
            },
        }


def iso_utc(value: Any) -> str:
    """``value`` (a datetime or an ISO 8601 text) as ISO 8601 in UTC; "" when it is neither.

    A naive time is taken as UTC. CEL reads the result with ``timestamp(...)``.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def ci_results(recent: Iterable[RecentSignal]) -> list[dict[str, str]]:
    """The CI outcomes among the recent signals, newest first: ``{"signal_id", "event_type",
    "result", "ts"}`` for each ``ci.*`` signal, ``result`` the event type's last part
    (``failed``, ``succeeded``, ``cancelled``, ``flaky``; docs/event-taxonomy.md)."""
    return [
        {
            "signal_id": s.signal_id,
            "event_type": s.event_type,
            "result": s.event_type.rsplit(".", 1)[-1],
            "ts": s.ts,
        }
        for s in recent
        if s.event_type.startswith("ci.")
    ]


def time_bucket(ts: datetime, zone: str) -> dict[str, Any]:
    """The signal's time in the tenant's zone: ``{"hour": 0..23, "weekday": "mon".."sun",
    "day": "YYYY-MM-DD", "timezone"}``; an unknown zone counts as UTC."""
    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    local = aware.astimezone(tz)
    return {
        "hour": local.hour,
        "weekday": WEEKDAYS[local.weekday()],
        "day": local.date().isoformat(),
        "timezone": zone,
    }


def references(conditions: Iterable[str], actions: Iterable[Mapping[str, Any]], root: str) -> bool:
    """Whether a playbook's conditions or action templates mention ``root`` (a context root).

    A textual check, so it may say yes for a name in a string literal: that only reads data the
    decision did not need, never the other way round.
    """
    return any(root in condition for condition in conditions) or any(root in repr(a) for a in actions)


def assemble_context(
    *,
    tenant_id: str,
    actor_id: str,
    actor_type: str,
    actor_roles: Iterable[str],
    request_context: Mapping[str, Any],
    signal: Mapping[str, Any],
    signal_ts: datetime,
    recent_signals: Iterable[Mapping[str, Any]],
    policy: Mapping[str, Any],
    recent_incidents: Iterable[Mapping[str, Any]] = (),
) -> DecisionContext:
    """Build the data-minimised context (FR-2, NFR-3; spec 10.1 MMMContext).

    Args:
        request_context: the decide request's ``context``; only ``repo_id``, ``branch``,
            ``file_path`` and ``environment`` are read.
        signal: the envelope; only ``signal_id``, ``source``, ``event_type``, ``severity`` are read.
        recent_signals: newest first; only ``signal_id``, ``event_type``, ``severity`` and ``ts``
            (datetime or ISO 8601) of the first ``RECENT_SIGNALS_LIMIT`` are kept.
        policy: the effective tenant policy view (``quiet_hours`` with its ``timezone``,
            ``enabled_action_types``, ``enabled_surfaces``, ``policy_snapshot_id``).
        recent_incidents: newest first; only ``incident_id``, ``status``, ``severity``,
            ``repo_id``, ``environment`` and ``ts`` of the first ``RECENT_INCIDENTS_LIMIT``.
    """
    recent = tuple(
        RecentSignal(
            signal_id=str(s["signal_id"]),
            event_type=str(s["event_type"]),
            severity=str(s["severity"]),
            ts=iso_utc(s.get("ts")),
        )
        for s, _ in zip(recent_signals, range(RECENT_SIGNALS_LIMIT), strict=False)
    )
    incidents = tuple(
        Incident(
            incident_id=str(i.get("incident_id") or ""),
            status=str(i.get("status") or ""),
            severity=str(i.get("severity") or ""),
            repo_id=str(i.get("repo_id") or ""),
            environment=str(i.get("environment") or ""),
            ts=iso_utc(i.get("ts")),
        )
        for i, _ in zip(recent_incidents, range(RECENT_INCIDENTS_LIMIT), strict=False)
    )
    quiet_hours = dict(policy["quiet_hours"])
    return DecisionContext(
        tenant_id=tenant_id,
        actor_id=actor_id,
        actor_type=actor_type,
        actor_roles=tuple(sorted(set(actor_roles))),
        repo_id=str(request_context.get("repo_id") or ""),
        branch=str(request_context.get("branch") or ""),
        file_path=str(request_context.get("file_path") or ""),
        environment=str(request_context.get("environment") or ""),
        signal=SignalMeta(
            signal_id=str(signal["signal_id"]),
            source=str(signal["source"]),
            event_type=str(signal["event_type"]),
            severity=str(signal["severity"]),
            ts=signal_ts.isoformat(),
        ),
        recent_signals=recent,
        recent_incidents=incidents,
        time_bucket=time_bucket(signal_ts, str(quiet_hours.get("timezone") or "UTC")),
        quiet_hours=quiet_hours,
        enabled_action_types=tuple(policy["enabled_action_types"]),
        enabled_surfaces=tuple(policy["enabled_surfaces"]),
        policy_snapshot_id=str(policy["policy_snapshot_id"]),
    )


def sample_context() -> dict[str, Any]:
    """A context with every field filled, to check templates and conditions at playbook save."""
    return {
        "signal": {
            "signal_id": "sample-signal",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": "2026-01-01T00:00:00+00:00",
        },
        "actor": {"id": "sample-actor", "type": "human", "roles": ["developer"]},
        "context": {
            "repo_id": "org/repo",
            "branch": "main",
            "file_path": "src/app.py",
            "environment": "prod",
        },
        "recent_signals": [
            {
                "signal_id": "s0",
                "event_type": "ci.check_run.failed",
                "severity": "high",
                "ts": "2025-12-31T23:50:00+00:00",
            }
        ],
        "recent_ci_results": [
            {
                "signal_id": "s0",
                "event_type": "ci.check_run.failed",
                "result": "failed",
                "ts": "2025-12-31T23:50:00+00:00",
            }
        ],
        "recent_incidents": [
            {
                "incident_id": "i0",
                "status": "firing",
                "severity": "high",
                "repo_id": "org/repo",
                "environment": "prod",
                "ts": "2025-12-31T22:00:00+00:00",
            }
        ],
        "time_bucket": {"hour": 0, "weekday": "thu", "day": "2026-01-01", "timezone": "UTC"},
        "tenant": {
            "quiet_hours": {"start": 22, "end": 6, "timezone": "UTC"},
            "enabled_action_types": ["mirror", "mentor", "multiplier"],
            "enabled_surfaces": ["ide", "ci", "alert"],
        },
    }
