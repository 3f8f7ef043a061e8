"""Scenario 4: the private PostgreSQL is stopped (``-m fast``: every connection cut) under decide and
signal traffic, then started again on the same port.

During the outage requests answer 503 ``NOT_READY`` naming the database; afterwards the same
processes serve again. Nothing is half-written: every decision has its receipt, actions and
deliveries, every decide answered 200 is stored, and every signal answered 202 is decided once.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.checks import decided, half_written
from tests.faults.stack import figures
from tests.faults.traffic import Stream

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TENANT = "fault-pg"
CLEAN = {"200", "202", "503 NOT_READY database"}


def test_postgres_restarted_during_traffic(make_stack):
    # given the service under decide and signal traffic
    stack = make_stack("pg_restart")
    stack.start("web")
    stack.setup_tenant(TENANT)
    stack.start("worker")
    stack.start("beat")
    decides = Stream(stack, TENANT, threads=3).start()
    signals = Stream(stack, TENANT, kind="signals", threads=1).start()
    streams = (decides, signals)
    try:
        stack.wait_for(lambda: decides.count("before", "200") >= 20, timeout=60, what="decides before")
        # when PostgreSQL stops, stays down a while, then starts again
        stack.pg.stop("fast")
        for stream in streams:
            stream.mark("outage")
        stack.wait_for(lambda: decides.count("outage") >= 40, timeout=60, what="decides during the outage")
        time.sleep(1)  # a little more traffic against a database that is not there
        stack.pg.start()
        for stream in streams:
            stream.mark("after")
        stack.wait_for(
            lambda: decides.count("after", "200") >= 40, timeout=90, what="decides to succeed again"
        )
        for stream in streams:
            stream.mark("settled")
        stack.wait_for(lambda: decides.count("settled") >= 20, timeout=60, what="decides after recovery")
    finally:
        phases = {stream.kind: stream.stop() for stream in streams}

    # then every accepted signal is decided once (by the worker, retries and the sweep)
    conn = stack.pg.connect(stack.db_name)
    stack.wait_for(
        lambda: decided(conn, TENANT, signals.answered)[1] == len(signals.answered),
        timeout=90,
        what="every accepted signal decided",
    )
    answered = decides.answered + signals.answered
    decisions, distinct = decided(conn, TENANT, answered)
    partial = half_written(conn)
    line = figures(
        "PostgreSQL restarted during traffic",
        sent=decides.sent + signals.sent,
        accepted=len(answered),
        decided=distinct,
        lost=len(answered) - distinct,
        duplicated=decisions - distinct,
        **{
            f"{kind}.{phase}[{result}]": n
            for kind, by_phase in phases.items()
            for phase, counter in by_phase.items()
            for result, n in counter.items()
        },
        **partial,
    )
    for kind, by_phase in phases.items():
        for phase, counter in by_phase.items():
            assert set(counter) <= CLEAN, f"{kind} {phase}: {dict(counter)}; {line}"
    assert phases["decide"]["outage"]["503 NOT_READY database"] > 0, line
    assert set(phases["decide"]["settled"]) == {"200"}, line
    assert distinct == len(answered) and decisions == distinct, line
    assert partial == {"no_receipt": 0, "actions_mismatch": 0, "no_delivery": 0}, line
    conn.close()
