"""Scenario 2 (RF-MMM-02): ERIS down (503) then up while decisions are made; every receipt reaches
ERIS, none twice. ERIS is a real local HTTP server recording each idempotency key.

The 15-minute outage is time-compressed 120-fold through the environment: 7.5 s of outage, the
outbox backoff base 30 s -> 0.25 s and its cap an hour -> 30 s, the circuit breaker 60 s -> 0.5 s,
and the receipt sweep every second (its smallest setting; production sweeps every minute). The
task's own retries (0.5, 1, 2 s) are not compressed, which only makes the outage look longer to
the outbox than it is.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.instances import query
from tests.faults.peers import SwitchableEris, serve
from tests.faults.stack import figures
from tests.faults.traffic import decide_all

pytestmark = [pytest.mark.faults, pytest.mark.slow]

COMPRESSED_120 = {
    "OUTBOX_BACKOFF_BASE_SECONDS": "0.25",
    "OUTBOX_BACKOFF_MAX_SECONDS": "30",
    "RECEIPT_SWEEP_INTERVAL_SECONDS": "1",
    "RECEIPT_SWEEP_AGE_SECONDS": "1",
    "PEER_BREAKER_RESET_SECONDS": "0.5",
}
FIFTEEN_MINUTES = 15 * 60 / 120  # seconds


@pytest.fixture
def eris():
    server = serve()
    fake = SwitchableEris()
    fake.install(server)
    yield fake, server.url_for("/").rstrip("/")
    server.clear()
    server.stop()


def _receipts(conn) -> dict[str, str]:
    return {str(rid): status for rid, status in query(conn, "SELECT receipt_id, status FROM mmm_receipts")}


def _all_delivered(conn, fake: SwitchableEris) -> bool:
    receipts = _receipts(conn)
    return bool(receipts) and set(receipts.values()) == {"sent"} and set(receipts) <= set(fake.stored)


def _report(
    name: str, conn, fake: SwitchableEris, decided: int, sent: int, outcomes, **extra: int
) -> tuple[str, dict]:
    receipts = _receipts(conn)
    counts = {
        "sent": sent,
        "accepted": outcomes["200"],
        "decided": decided,
        "receipts": len(receipts),
        "refused_while_down": fake.refused,
        "delivered": len(set(receipts) & set(fake.stored)),
        "lost": len(set(receipts) - set(fake.stored)),
        "duplicated": fake.duplicates(),
        **extra,
    }
    return figures(name, **counts), counts


def _decisions(conn) -> int:
    return query(conn, "SELECT count(*) FROM mmm_decisions")[0][0]


def test_eris_down_then_up_during_200_decisions(make_stack, eris):
    # given the service sending receipts to ERIS, with a worker and beat
    fake, url = eris
    stack = make_stack("eris_short", ERIS_URL=url)
    stack.start("web")
    stack.setup_tenant("fault-eris")
    stack.start("worker")
    stack.start("beat")
    conn = stack.pg.connect(stack.db_name)
    ids = [f"eris-{i:03d}" for i in range(200)]

    # when ERIS answers 503 for the middle 100 of 200 decisions, then comes back
    outcomes = decide_all(stack, "fault-eris", ids[:50])
    fake.down = True
    outcomes += decide_all(stack, "fault-eris", ids[50:150])
    stack.wait_for(lambda: fake.refused > 0, timeout=30, what="a receipt refused by ERIS")
    fake.down = False
    outcomes += decide_all(stack, "fault-eris", ids[150:])

    # then every receipt (decisions and admin changes) is delivered once
    stack.wait_for(lambda: _all_delivered(conn, fake), timeout=120, what="every receipt delivered to ERIS")
    line, counts = _report("ERIS down then up", conn, fake, _decisions(conn), len(ids), outcomes)
    assert outcomes == {"200": 200}, line
    assert counts["decided"] == 200 and counts["refused_while_down"] > 0, line
    assert counts["lost"] == 0 and counts["duplicated"] == 0, line
    conn.close()


def test_eris_down_fifteen_minutes_time_compressed(make_stack, eris):
    # given ERIS down before any receipt is written, backoff, breaker and sweeps compressed
    fake, url = eris
    fake.down = True
    stack = make_stack("eris_long", ERIS_URL=url, **COMPRESSED_120)
    stack.start("web")
    stack.setup_tenant("fault-eris-long")
    stack.start("worker")
    stack.start("beat")
    conn = stack.pg.connect(stack.db_name)
    outage_started = time.monotonic()

    # when 100 decisions are made during a "15-minute" outage
    outcomes = decide_all(stack, "fault-eris-long", [f"long-{i:03d}" for i in range(100)])
    time.sleep(max(0.0, FIFTEEN_MINUTES - (time.monotonic() - outage_started)))
    # waiting: pending, or being tried at this instant (sending); never failed
    pending = query(
        conn, "SELECT count(*), max(attempts) FROM mmm_receipts WHERE status IN ('pending', 'sending')"
    )[0]
    failed = query(conn, "SELECT count(*) FROM mmm_receipts WHERE status = 'failed'")[0][0]
    fake.down = False

    # then nothing was given up on, and everything is delivered once after ERIS returns
    stack.wait_for(
        lambda: _all_delivered(conn, fake), timeout=150, what="every receipt delivered after the outage"
    )
    line, counts = _report(
        "ERIS down 15 min (x120)",
        conn,
        fake,
        _decisions(conn),
        100,
        outcomes,
        pending_at_return=pending[0],
        max_attempts_during_outage=pending[1],
    )
    assert outcomes == {"200": 100}, line
    assert failed == 0 and pending[0] == counts["receipts"], line
    assert counts["lost"] == 0 and counts["duplicated"] == 0, line
    conn.close()
