"""Scenario 1: the Celery worker is SIGKILLed mid-burst of 300 accepted signals.

Nothing acknowledged the lost messages (``acks_late``); the Redis broker would only hand them back
after its visibility timeout, so recovery rests on the service's own guarantees: the claim of a
killed worker is released after ``INGEST_CLAIM_TIMEOUT_SECONDS`` and beat's ``ingest.sweep``
re-enqueues every signal still undecided. After a restart every signal is decided exactly once.
"""

from __future__ import annotations

import pytest
import redis

from tests.faults.instances import query
from tests.faults.stack import figures

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TENANT = "fault-kill"
SIGNALS = 300
BATCH = 25
ACTIONS_PER_DECISION = 2  # the starter CI playbook proposes a Mirror and a Mentor


def _decided(conn) -> int:
    return query(conn, "SELECT count(*) FROM mmm_decisions WHERE tenant_id = %s", TENANT)[0][0]


def test_worker_killed_mid_burst_every_signal_decided_once(make_stack):
    # given web, worker and beat as production runs them, and a tenant whose playbook fires
    stack = make_stack("worker_kill")
    stack.start("web")
    stack.setup_tenant(TENANT)
    stack.start("beat")
    stack.start("worker")
    ids = [f"burst-{i:03d}" for i in range(SIGNALS)]
    accepted: list[str] = []
    conn = stack.pg.connect(stack.db_name)

    def send(chunk: list[str]) -> None:
        response = stack.post_signals(TENANT, chunk)
        assert response.status_code == 202, response.text
        accepted.extend(response.json()["accepted"])

    # when half the burst is in and the worker is deciding, it is SIGKILLed (no shutdown, no ack)
    for start in range(0, SIGNALS // 2, BATCH):
        send(ids[start : start + BATCH])
    stack.wait_for(lambda: _decided(conn) >= 10, timeout=60, what="the worker to start deciding")
    stack.kill("worker")
    decided_at_kill = _decided(conn)
    # the rest of the burst arrives while no worker runs: accepted all the same
    for start in range(SIGNALS // 2, SIGNALS, BATCH):
        send(ids[start : start + BATCH])
    stack.start("worker")

    # then every accepted signal is decided, each once
    stack.wait_for(lambda: _decided(conn) >= SIGNALS, timeout=150, what="all 300 signals decided")
    rows = query(
        conn,
        "SELECT count(*), count(DISTINCT d.signal_id) FROM mmm_decisions d "
        "JOIN mmm_signals s ON s.id = d.signal_id WHERE s.tenant_id = %s",
        TENANT,
    )[0]
    statuses = dict(query(conn, "SELECT status, count(*) FROM mmm_signals GROUP BY status"))
    actions = query(conn, "SELECT count(*) FROM mmm_actions WHERE tenant_id = %s", TENANT)[0][0]
    cache = redis.Redis(port=stack.cache.port)
    reserved = sum(int(cache.get(key)) for key in cache.scan_iter(f"mmm:fatigue:{TENANT}:repo:*"))
    line = figures(
        "worker SIGKILLed mid-burst",
        sent=SIGNALS,
        accepted=len(accepted),
        decided_before_kill=decided_at_kill,
        decided=rows[1],
        lost=SIGNALS - rows[1],
        duplicated=rows[0] - rows[1],
        actions=actions,
        fatigue_reserved=reserved,
    )
    assert len(set(accepted)) == SIGNALS, line
    assert rows == (SIGNALS, SIGNALS), line
    assert statuses == {"decided": SIGNALS}, f"{line}; signal statuses {statuses}"
    # fatigue: every action holds its slot; only decisions cut short by the kill (at most one per
    # worker process, two) may have reserved slots a second time, never the whole burst again
    assert actions <= reserved <= actions + 2 * ACTIONS_PER_DECISION, line
    conn.close()
