"""Plain-data builders for engine unit tests."""

from __future__ import annotations

from datetime import UTC, datetime

from decisions.engine.compose import ProposedAction
from decisions.engine.context import DecisionContext, assemble_context
from decisions.engine.matching import PlaybookCandidate
from decisions.engine.policy import PolicyView, PreferencesView

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def context(**overrides) -> DecisionContext:
    signal = {
        "signal_id": "sig-1",
        "source": "github",
        "event_type": "ci.check_run.failed",
        "severity": "high",
    }
    signal.update(overrides.pop("signal", {}))
    return assemble_context(
        tenant_id="tenant-a",
        actor_id=overrides.pop("actor_id", "actor-1"),
        actor_type="human",
        actor_roles=overrides.pop("roles", ["developer"]),
        request_context=overrides.pop("request_context", {"repo_id": "org/app", "branch": "main"}),
        signal=signal,
        signal_ts=overrides.pop("signal_ts", NOW),
        recent_signals=overrides.pop("recent_signals", []),
        recent_incidents=overrides.pop("recent_incidents", ()),
        policy={
            "quiet_hours": {"start": 22, "end": 6, "timezone": overrides.pop("timezone", "UTC")},
            "enabled_action_types": ["mirror", "mentor", "multiplier"],
            "enabled_surfaces": ["ide", "ci", "alert"],
            "policy_snapshot_id": "local-test",
        },
    )


def candidate(
    actions, *, conditions=(), roles=((),), name="pb", version_id="v-1", limits=None
) -> PlaybookCandidate:
    return PlaybookCandidate(
        playbook_id=f"id-{name}",
        playbook_name=name,
        version_id=version_id,
        version=1,
        trigger_roles=tuple(tuple(r) for r in roles),
        conditions=tuple(conditions),
        actions=tuple(actions),
        limits=limits or {},
    )


MIRROR = {
    "type": "mirror",
    "surfaces": ["ide", "ci"],
    "title": "CI failed on {{ context.branch }}",
    "body": "Red.",
}
MENTOR = {
    "type": "mentor",
    "surfaces": ["ide"],
    "title": "Read the first failing step",
    "body": "It usually explains the failure.",
    "rationale": {"why_relevant": "{{ context.branch }} is red", "baseline_comparison": "usually green"},
}
MULTIPLIER = {
    "type": "multiplier",
    "surfaces": ["ide", "ci"],
    "title": "Rerun the failed jobs",
    "body": "A rerun can be started for you.",
    "tags": [],
    "rationale": {"why_relevant": "flaky", "baseline_comparison": "green before"},
    "execution": {"executor": "ci", "operation": "rerun_failed_jobs", "parameters": {}},
    "requires_dual_channel": False,
}


def proposed(
    action_type="mirror", surfaces=("ide", "ci"), tags=(), operation="", name="pb"
) -> ProposedAction:
    payload = {"title": "t", "body": "b", "evidence_links": ["sig-1"]}
    if operation:
        payload["execution"] = {"executor": "ci", "operation": operation, "parameters": {}}
    return ProposedAction(
        playbook_id=f"id-{name}",
        playbook_name=name,
        version_id="v-1",
        version=1,
        index=0,
        type=action_type,
        surfaces=tuple(surfaces),
        payload=payload,
        tags=tuple(tags),
        template_priority=0.5,
        requires_consent=action_type == "multiplier",
        requires_dual_channel=False,
        cooldown_minutes=None,
    )


def policy(**overrides) -> PolicyView:
    values = dict(
        snapshot_id="local-test",
        enabled_action_types=frozenset({"mirror", "mentor", "multiplier"}),
        enabled_surfaces=frozenset({"ide", "ci", "alert"}),
        restrictions=frozenset(),
        max_actions_per_hour=3,
        max_actions_per_day=10,
        max_actions_per_repo_per_day=20,
        max_actions_per_decision=3,
        cooldown_minutes=60,
        quiet_hours_start=22,
        quiet_hours_end=6,
        timezone="UTC",
        safety_critical=False,
        priorities={},
        dual_channel_tags=frozenset({"production_change"}),
    )
    values.update(overrides)
    return PolicyView(**values)


def prefs(**overrides) -> PreferencesView:
    values = dict(opt_out_categories=frozenset(), preferred_surfaces=frozenset(), snooze_until=None)
    values.update(overrides)
    return PreferencesView(**values)
