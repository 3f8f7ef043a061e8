"""Scenario 3: the cache Redis (``REDIS_URL``: cache and fatigue counters) is SIGKILLed under decide
traffic, then started again on the same port.

While it is down every decide answers 503 ``NOT_READY`` naming the cache (never a 500, never a
dropped connection); once it is back decides succeed again without restarting any process, and
every decide answered 200 is stored whole.
"""

from __future__ import annotations

import pytest

from tests.faults.checks import decided, half_written
from tests.faults.stack import figures
from tests.faults.traffic import Stream

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TENANT = "fault-redis"
CLEAN = {"200", "503 NOT_READY cache"}


def test_redis_killed_during_decides_then_back(make_stack):
    # given the service under decide traffic on 4 connections
    stack = make_stack("redis_down")
    stack.start("web")
    stack.setup_tenant(TENANT)
    stack.start("worker")
    stack.start("beat")
    stream = Stream(stack, TENANT).start()
    try:
        stack.wait_for(lambda: stream.count("before", "200") >= 20, timeout=60, what="decides before")
        # when Redis is killed
        stack.cache.kill()
        stream.mark("outage")
        stack.wait_for(lambda: stream.count("outage") >= 40, timeout=60, what="decides during the outage")
        # and started again on the same port (empty: no persistence)
        stack.cache.start()
        stream.mark("after")
        stack.wait_for(
            lambda: stream.count("after", "200") >= 40, timeout=90, what="decides to succeed again"
        )
        stream.mark("settled")
        stack.wait_for(lambda: stream.count("settled") >= 20, timeout=60, what="decides after recovery")
    finally:
        phases = stream.stop()

    # then: only clean answers, 503 NOT_READY during, recovery after, nothing half-written
    conn = stack.pg.connect(stack.db_name)
    decisions, signals = decided(conn, TENANT, stream.answered)
    partial = half_written(conn)
    line = figures(
        "Redis killed during decides",
        sent=stream.sent,
        accepted=len(stream.answered),
        decided=signals,
        lost=len(stream.answered) - signals,
        duplicated=decisions - signals,
        **{f"{phase}[{result}]": n for phase, counter in phases.items() for result, n in counter.items()},
        **partial,
    )
    for phase, counter in phases.items():
        assert set(counter) <= CLEAN, f"{phase}: {dict(counter)}; {line}"
    assert phases["outage"]["503 NOT_READY cache"] > 0, line
    assert set(phases["settled"]) == {"200"}, line
    assert signals == len(stream.answered) and decisions == signals, line
    assert partial == {"no_receipt": 0, "actions_mismatch": 0, "no_delivery": 0}, line
    conn.close()
