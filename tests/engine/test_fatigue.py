"""UT-MMM-03: quotas, cool-downs and quiet hours (FR-7), on the in-process and the Redis store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from decisions.engine.fatigue import in_quiet_hours, reservation_for
from decisions.fatigue_store import LocalFatigueStore, RedisFatigueStore

T0 = datetime(2026, 3, 4, 12, 10, tzinfo=UTC)


@pytest.fixture(params=["local", "redis"])
def store(request):
    if request.param == "local":
        return LocalFatigueStore()
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL not set (.ci/run sets it)")
    from django_redis import get_redis_connection

    connection = get_redis_connection("default")
    for pattern in ("mmm:fatigue:ut:*", "mmm:cooldown:ut:*"):
        for key in connection.scan_iter(pattern):
            connection.delete(key)
    return RedisFatigueStore()


def reserve(
    store,
    now,
    *,
    repo="org/app",
    playbook="pb-1",
    cooldown=0,
    per_hour=3,
    per_day=10,
    per_repo=20,
    timezone="UTC",
):
    return store.reserve(
        reservation_for(
            tenant_id="ut",
            actor_id="actor-1",
            repo_id=repo,
            playbook_id=playbook,
            now=now,
            timezone=timezone,
            max_per_hour=per_hour,
            max_per_day=per_day,
            max_per_repo_per_day=per_repo,
            cooldown_minutes=cooldown,
        )
    )


def test_ut_mmm_03_hour_quota_then_reset_after_the_window(store):
    assert [reserve(store, T0) for _ in range(4)] == [None, None, None, "fatigue.quota_actor_hour"]
    # the next calendar hour is a new window
    assert reserve(store, T0 + timedelta(minutes=55)) is None


def test_day_quota_then_reset_next_day(store):
    results = [reserve(store, T0 + timedelta(hours=h), per_hour=100, per_day=5) for h in range(6)]
    assert results == [None] * 5 + ["fatigue.quota_actor_day"]
    assert reserve(store, T0 + timedelta(days=1), per_day=5) is None


def test_repo_quota_counts_every_actor_of_the_repo(store):
    results = [
        store.reserve(
            reservation_for(
                tenant_id="ut",
                actor_id=f"actor-{i}",
                repo_id="org/shared",
                playbook_id="pb",
                now=T0,
                timezone="UTC",
                max_per_hour=10,
                max_per_day=10,
                max_per_repo_per_day=2,
                cooldown_minutes=0,
            )
        )
        for i in range(3)
    ]
    assert results == [None, None, "fatigue.quota_repo_day"]


def test_cooldown_per_playbook_actor_repo_then_expires(store):
    assert reserve(store, T0, cooldown=30, per_hour=100) is None
    assert reserve(store, T0 + timedelta(minutes=10), cooldown=30, per_hour=100) == "fatigue.cooldown"
    # another playbook or another repo is not cooled down
    assert reserve(store, T0 + timedelta(minutes=10), cooldown=30, per_hour=100, playbook="pb-2") is None
    assert reserve(store, T0 + timedelta(minutes=10), cooldown=30, per_hour=100, repo="org/other") is None
    # after the cool-down window the same playbook may fire again
    assert reserve(store, T0 + timedelta(minutes=31), cooldown=30, per_hour=100) is None


def test_refused_reservation_consumes_nothing(store):
    assert reserve(store, T0, cooldown=30) is None
    for _ in range(5):
        assert reserve(store, T0, cooldown=30) == "fatigue.cooldown"
    # the refusals did not count against the hour quota of 3
    assert reserve(store, T0, playbook="pb-2") is None
    assert reserve(store, T0, playbook="pb-3") is None
    assert reserve(store, T0, playbook="pb-4") == "fatigue.quota_actor_hour"


def test_day_window_follows_the_tenant_time_zone(store):
    # 23:30 and 00:30 in Tokyo are different days even though both are 14:30/15:30 UTC
    tokyo_2330 = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
    assert reserve(store, tokyo_2330, per_hour=100, per_day=1, timezone="Asia/Tokyo") is None
    assert reserve(
        store, tokyo_2330 + timedelta(minutes=20), per_hour=100, per_day=1, timezone="Asia/Tokyo"
    ) == ("fatigue.quota_actor_day")
    assert (
        reserve(store, tokyo_2330 + timedelta(hours=1), per_hour=100, per_day=1, timezone="Asia/Tokyo")
        is None
    )


@pytest.mark.parametrize(
    ("utc", "tz", "quiet"),
    [
        ("2026-03-04T21:59", "UTC", False),
        ("2026-03-04T22:00", "UTC", True),
        ("2026-03-04T23:59", "UTC", True),
        ("2026-03-05T00:00", "UTC", True),  # across midnight
        ("2026-03-05T05:59", "UTC", True),
        ("2026-03-05T06:00", "UTC", False),
        ("2026-03-04T13:30", "Asia/Tokyo", True),  # 22:30 in Tokyo
        ("2026-03-04T21:30", "Asia/Tokyo", False),  # 06:30 in Tokyo
        ("2026-03-05T03:30", "America/New_York", True),  # 22:30 the day before in New York
        ("2026-03-04T12:00", "America/New_York", False),  # 07:00 in New York
    ],
)
def test_quiet_hours_22_to_6_in_the_tenant_time_zone(utc, tz, quiet):
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert in_quiet_hours(now, 22, 6, tz) is quiet


def test_quiet_hours_within_one_day_and_disabled():
    noon = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert in_quiet_hours(noon, 12, 14, "UTC") is True
    assert in_quiet_hours(noon, 13, 14, "UTC") is False
    assert in_quiet_hours(noon, 0, 0, "UTC") is False


def test_check_answers_like_reserve_but_consumes_nothing(store):
    def plan(now, cooldown=30):
        return reservation_for(
            tenant_id="ut",
            actor_id="actor-1",
            repo_id="org/app",
            playbook_id="pb-1",
            now=now,
            timezone="UTC",
            max_per_hour=1,
            max_per_day=10,
            max_per_repo_per_day=20,
            cooldown_minutes=cooldown,
        )

    for _ in range(3):
        assert store.check(plan(T0)) is None
    assert store.reserve(plan(T0)) is None
    assert store.check(plan(T0)) == "fatigue.cooldown"
    assert store.check(plan(T0, cooldown=0)) == "fatigue.quota_actor_hour"


def plan_for(now, *, playbook="pb-1", cooldown=30, per_hour=3, repo="org/app"):
    return reservation_for(
        tenant_id="ut",
        actor_id="actor-1",
        repo_id=repo,
        playbook_id=playbook,
        now=now,
        timezone="UTC",
        max_per_hour=per_hour,
        max_per_day=10,
        max_per_repo_per_day=20,
        cooldown_minutes=cooldown,
    )


def test_reserve_many_answers_as_reserving_one_by_one(store):
    """A decision's reservations in one call: the second action of a playbook skips the cool-down
    the first started; a cool-down from an earlier decision refuses; quotas count within the call."""
    assert reserve(store, T0, playbook="pb-0", cooldown=30, per_hour=100) is None  # earlier decision
    plans = [
        plan_for(T0, playbook="pb-1"),
        plan_for(T0, playbook="pb-1"),  # same playbook: its cool-down does not stop it
        plan_for(T0, playbook="pb-0"),  # cooling down since the earlier decision
        plan_for(T0, playbook="pb-2"),  # the hour quota (3) is spent: 1 earlier + 2 here
    ]
    assert store.reserve_many(plans, limit=5) == [None, None, "fatigue.cooldown", "fatigue.quota_actor_hour"]
    # What was taken is taken: pb-1 is cooling down now, and the quota stays spent.
    assert reserve(store, T0, playbook="pb-1", cooldown=30, per_hour=100) == "fatigue.cooldown"


def test_reserve_many_takes_at_most_the_limit_and_the_rest_consume_nothing(store):
    plans = [plan_for(T0, playbook=f"pb-{n}", per_hour=100) for n in range(4)]
    assert store.reserve_many(plans, limit=2) == [
        None,
        None,
        "fatigue.cap_per_decision",
        "fatigue.cap_per_decision",
    ]
    assert store.reserve_many(plans[2:], limit=2) == [None, None]  # pb-2 and pb-3 were not cooling down
    assert store.reserve_many([], limit=2) == []


def test_reserve_many_checking_consumes_nothing(store):
    plans = [plan_for(T0, playbook="pb-1"), plan_for(T0, playbook="pb-1"), plan_for(T0, playbook="pb-2")]
    assert store.reserve_many(plans, limit=2, check_only=True) == [None, None, "fatigue.cap_per_decision"]
    assert store.reserve_many(plans, limit=3) == [None, None, None]
    assert store.reserve_many(plans, limit=3, check_only=True) == ["fatigue.cooldown"] * 3
    assert store.reserve_many([plan_for(T0, playbook="pb-3")], limit=1, check_only=True) == [
        "fatigue.quota_actor_hour"
    ]
