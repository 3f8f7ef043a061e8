"""A playbook's own routing rules and quotas (FR-3, FR-7): their validation with field paths, the
quiet-hours window in minutes, the quota counters of a reservation and the escalation counter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from decisions.engine.fatigue import in_quiet_window, reservation_for
from decisions.engine.playbook_routing import (
    PlaybookRouting,
    clock_minutes,
    escalation_allowed,
    escalation_key,
    playbook_quiet_hours_gate,
    playbook_routing,
)
from decisions.fatigue_store import LocalFatigueStore
from playbooks.spec import validate_playbook
from tests.engine.helpers import MIRROR

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _document(**extra) -> dict:
    return {"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR], **extra}


def test_routing_and_limits_are_normalised():
    spec, problems = validate_playbook(
        _document(
            routing={
                "quiet_hours": {"start": "22:00", "end": "07:30", "timezone": "Europe/Berlin"},
                "escalation": {"after_unacknowledged": 3},
            },
            limits={"cooldown_minutes": 60, "max_actions_per_hour": 1, "max_actions_per_day": 3},
        )
    )
    assert problems == []
    assert spec["routing"] == {
        "quiet_hours": {"start": "22:00", "end": "07:30", "timezone": "Europe/Berlin"},
        "escalation": {"after_unacknowledged": 3, "surface": "alert"},
    }
    assert spec["limits"] == {"cooldown_minutes": 60, "max_actions_per_hour": 1, "max_actions_per_day": 3}


def test_a_playbook_without_routing_has_none():
    spec, _ = validate_playbook(_document())
    assert spec["routing"] == {} and spec["limits"] == {}
    assert playbook_routing(spec["limits"], spec["routing"]) is None
    assert playbook_routing({"cooldown_minutes": 5}, {}) is None


@pytest.mark.parametrize(
    ("routing", "limits", "field"),
    [
        ("nightly", None, "routing"),
        ({"quiet": {}}, None, "routing.quiet"),
        ({"quiet_hours": "22-07"}, None, "routing.quiet_hours"),
        ({"quiet_hours": {"end": "07:00"}}, None, "routing.quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00"}}, None, "routing.quiet_hours.end"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, None, "routing.quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "7:00"}}, None, "routing.quiet_hours.end"),
        ({"quiet_hours": {"start": "22:60", "end": "07:00"}}, None, "routing.quiet_hours.start"),
        ({"quiet_hours": {"start": 22, "end": "06:00"}}, None, "routing.quiet_hours.start"),
        ({"quiet_hours": {"start": True, "end": "06:00"}}, None, "routing.quiet_hours.start"),
        (
            {"quiet_hours": {"start": "22:00", "end": "06:00", "timezone": "Mars/Olympus"}},
            None,
            "routing.quiet_hours.timezone",
        ),
        ({"quiet_hours": {"start": "22:00", "end": "06:00", "tz": "UTC"}}, None, "routing.quiet_hours.tz"),
        ({"escalation": 3}, None, "routing.escalation"),
        ({"escalation": {}}, None, "routing.escalation.after_unacknowledged"),
        ({"escalation": {"after_unacknowledged": 0}}, None, "routing.escalation.after_unacknowledged"),
        ({"escalation": {"after_unacknowledged": 101}}, None, "routing.escalation.after_unacknowledged"),
        ({"escalation": {"after_unacknowledged": "3"}}, None, "routing.escalation.after_unacknowledged"),
        ({"escalation": {"after_unacknowledged": 3, "surface": "ide"}}, None, "routing.escalation.surface"),
        ({"escalation": {"after_unacknowledged": 3, "channel": "x"}}, None, "routing.escalation.channel"),
        (None, {"max_actions_per_day": 0}, "limits.max_actions_per_day"),
        (None, {"max_actions_per_day": 10001}, "limits.max_actions_per_day"),
        (None, {"max_actions_per_hour": 2.5}, "limits.max_actions_per_hour"),
        (None, {"max_actions_per_hour": False}, "limits.max_actions_per_hour"),
        (None, {"max_per_day": 3}, "limits.max_per_day"),
        (None, [], "limits"),
    ],
)
def test_each_bad_routing_or_limit_is_refused_naming_its_field(routing, limits, field):
    document = _document()
    if routing is not None:
        document["routing"] = routing
    if limits is not None:
        document["limits"] = limits
    spec, problems = validate_playbook(document)
    assert spec is None  # a structural problem: not even a draft is saved
    assert [p.field for p in problems] == [field]


def test_clock_minutes():
    assert [clock_minutes(v) for v in ("00:00", "07:30", "23:59")] == [0, 450, 1439]
    for bad in ("7:30", "24:00", "12:60", "1230", "ab:cd", "12:3"):
        with pytest.raises(ValueError):
            clock_minutes(bad)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(22, 29, False), (22, 30, True), (23, 59, True), (0, 0, True), (7, 14, True), (7, 15, False)],
)
def test_a_minute_window_crossing_midnight(hour, minute, quiet):
    now = datetime(2026, 3, 4, hour, minute, tzinfo=UTC)
    assert in_quiet_window(now, 22 * 60 + 30, 7 * 60 + 15, "UTC") is quiet


def test_the_window_is_in_the_playbooks_zone():
    # 21:30 UTC is 22:30 in Berlin (winter): quiet there, not in UTC
    now = datetime(2026, 1, 10, 21, 30, tzinfo=UTC)
    assert in_quiet_window(now, 22 * 60, 6 * 60, "Europe/Berlin") is True
    assert in_quiet_window(now, 22 * 60, 6 * 60, "UTC") is False
    assert in_quiet_window(now, 0, 0, "UTC") is False


class _Action:
    def __init__(self, routing):
        self.routing = routing

    def suppressed(self, reason):
        return {"reason": reason}


def test_the_playbook_quiet_hours_gate_drops_only_its_own_actions():
    quiet = _Action(playbook_routing({}, {"quiet_hours": {"start": "11:00", "end": "13:00"}}))
    elsewhere = _Action(
        playbook_routing({}, {"quiet_hours": {"start": "11:00", "end": "13:00", "timezone": "Asia/Tokyo"}})
    )
    plain = _Action(None)
    kept, dropped = playbook_quiet_hours_gate([quiet, elsewhere, plain], now=NOON, tenant_timezone="UTC")
    assert kept == [elsewhere, plain]  # 21:00 in Tokyo
    assert dropped == [{"reason": "fatigue.playbook_quiet_hours"}]
    # the zone defaults to the tenant's: 12:00 UTC is 21:00 in Tokyo, outside 11:00-13:00
    kept, _ = playbook_quiet_hours_gate([quiet], now=NOON, tenant_timezone="Asia/Tokyo")
    assert kept == [quiet]


def _reservation(**quotas):
    return reservation_for(
        tenant_id="t",
        actor_id="a",
        repo_id="r",
        playbook_id="pb",
        now=NOON,
        timezone="UTC",
        max_per_hour=100,
        max_per_day=100,
        max_per_repo_per_day=100,
        cooldown_minutes=0,
        **quotas,
    )


def test_playbook_quotas_are_counters_of_the_same_reservation():
    assert len(_reservation().counters) == 3
    reservation = _reservation(playbook_max_per_hour=2, playbook_max_per_day=3)
    reasons = [reason for _, _, _, reason in reservation.counters]
    assert "fatigue.playbook_quota_hour" in reasons and "fatigue.playbook_quota_day" in reasons
    store = LocalFatigueStore()
    answers = [store.reserve(reservation) for _ in range(3)]
    assert answers == [None, None, "fatigue.playbook_quota_hour"]
    # another playbook of the same actor is not held by this playbook's quota
    other = reservation_for(
        tenant_id="t",
        actor_id="a",
        repo_id="r",
        playbook_id="other",
        now=NOON,
        timezone="UTC",
        max_per_hour=100,
        max_per_day=100,
        max_per_repo_per_day=100,
        cooldown_minutes=0,
        playbook_max_per_hour=2,
    )
    assert store.reserve(other) is None


def test_the_escalation_counter_escalates_after_n_and_starts_again():
    store = LocalFatigueStore()
    key = escalation_key(tenant_id="t", playbook_id="pb", actor_id="a", repo_id="r")
    assert "a" not in key.split(":")[4:5] and key.startswith("mmm:escalation:t:pb:")
    now = NOON.timestamp()
    answers = [store.escalate(key, after=2, now=now) for _ in range(6)]
    assert answers == [False, False, True, False, False, True]
    # a check changes nothing; an acknowledgement starts the count again
    store.escalate(key, after=2, now=now)
    store.escalate(key, after=2, now=now)
    assert store.escalate(key, after=2, now=now, check_only=True) is True
    store.acknowledge(key)
    assert store.escalate(key, after=2, now=now, check_only=True) is False
    assert store.forget(tenant_id="t", actor_ref=key.split(":")[4]) == 0  # nothing counted after a check
    store.escalate(key, after=2, now=now)
    assert store.forget(tenant_id="t", actor_ref=key.split(":")[4]) == 1


def test_escalation_respects_consent_policy_and_preferred_surfaces():
    everything = frozenset({"ide", "ci", "alert"})
    assert escalation_allowed(
        action_type="mirror", surface="alert", enabled_surfaces=everything, preferred_surfaces=frozenset()
    )
    assert not escalation_allowed(
        action_type="multiplier", surface="alert", enabled_surfaces=everything, preferred_surfaces=frozenset()
    )
    assert not escalation_allowed(
        action_type="mentor",
        surface="alert",
        enabled_surfaces=frozenset({"ide"}),
        preferred_surfaces=frozenset(),
    )
    assert not escalation_allowed(
        action_type="mentor",
        surface="alert",
        enabled_surfaces=everything,
        preferred_surfaces=frozenset({"ide"}),
    )


def test_routing_rules_parse_once_into_plain_data():
    rules = playbook_routing(
        {"max_actions_per_day": 3},
        {"quiet_hours": {"start": "22:30", "end": "06:00"}, "escalation": {"after_unacknowledged": 2}},
    )
    assert rules == PlaybookRouting(
        quiet_start_minute=1350,
        quiet_end_minute=360,
        quiet_timezone=None,
        max_per_hour=None,
        max_per_day=3,
        escalate_after=2,
        escalate_surface="alert",
    )
