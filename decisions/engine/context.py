"""Context assembly with data minimisation (FR-2, NFR-3).

The context holds only: the actor's id, type and roles; repository id, branch, file path and
environment; the signal's metadata; the last 10 recent signals' id, event type and severity;
quiet hours and the tenant's enabled action types and surfaces. No payloads, no source code, no
e-mail addresses or names: ``assemble_context`` copies named fields, it never passes a dict on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RECENT_SIGNALS_LIMIT = 10

# The names CEL conditions and templates may reference (their roots).
CONTEXT_ROOTS = frozenset({"signal", "actor", "context", "recent_signals", "tenant"})


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
    quiet_hours: dict[str, Any]
    enabled_action_types: tuple[str, ...]
    enabled_surfaces: tuple[str, ...]
    policy_snapshot_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Shape: ``{"signal": {...}, "actor": {...}, "context": {...}, "recent_signals": [...],
        "tenant": {...}}`` with strings, lists and dicts only."""
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
                {"signal_id": s.signal_id, "event_type": s.event_type, "severity": s.severity}
                for s in self.recent_signals
            ],
            "tenant": {
                "quiet_hours": dict(self.quiet_hours),
                "enabled_action_types": list(self.enabled_action_types),
                "enabled_surfaces": list(self.enabled_surfaces),
            },
        }


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
) -> DecisionContext:
    """Build the data-minimised context (FR-2, NFR-3).

    Args:
        request_context: the decide request's ``context``; only ``repo_id``, ``branch``,
            ``file_path`` and ``environment`` are read.
        signal: the envelope; only ``signal_id``, ``source``, ``event_type``, ``severity`` are read.
        recent_signals: newest first; only ``signal_id``, ``event_type``, ``severity`` of the first
            ``RECENT_SIGNALS_LIMIT`` are kept.
        policy: the effective tenant policy view (``quiet_hours``, ``enabled_action_types``,
            ``enabled_surfaces``, ``policy_snapshot_id``).
    """
    recent = tuple(
        RecentSignal(
            signal_id=str(s["signal_id"]), event_type=str(s["event_type"]), severity=str(s["severity"])
        )
        for s, _ in zip(recent_signals, range(RECENT_SIGNALS_LIMIT), strict=False)
    )
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
        quiet_hours=dict(policy["quiet_hours"]),
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
        "recent_signals": [{"signal_id": "s0", "event_type": "ci.check_run.failed", "severity": "high"}],
        "tenant": {
            "quiet_hours": {"start": 22, "end": 6, "timezone": "UTC"},
            "enabled_action_types": ["mirror", "mentor", "multiplier"],
            "enabled_surfaces": ["ide", "ci", "alert"],
        },
    }
