"""The Celery worker keeps its database connections from one task to the next (issue 13).

Celery's Django fixup closes every connection around each task unless ``CELERY_DB_REUSE_MAX`` is
set: the worker then opened a PostgreSQL session (a server process) for every batch of signals
it decided. Counted here by PostgreSQL itself (``pg_stat_database.sessions``) on the scenario's
private database, with the worker started as the Procfile starts it.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.instances import query
from tests.faults.stack import figures

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TENANT = "fault-conns"
BATCH = 10  # one ingest.decide_batch task each (decisions.intake.services.DECIDE_BATCH)


def _sessions(conn, db_name: str) -> int:
    time.sleep(2)  # a backend's counters reach the shared statistics within a second of idling
    query(conn, "SELECT pg_stat_clear_snapshot()")
    return query(conn, "SELECT sessions FROM pg_stat_database WHERE datname = %s", db_name)[0][0]


def _decided(conn) -> int:
    sql = "SELECT count(*) FROM mmm_signals WHERE tenant_id = %s AND status = 'decided'"
    return query(conn, sql, TENANT)[0][0]


def test_the_worker_keeps_its_database_connections_between_tasks(make_stack):
    # given web and worker as production runs them, the worker warm (its pool processes connected)
    stack = make_stack("worker_conns")
    stack.start("web")
    stack.setup_tenant(TENANT)
    stack.start("worker")
    conn = stack.pg.connect(stack.db_name)
    assert stack.post_signals(TENANT, [f"warm-{i}" for i in range(2 * BATCH)]).status_code == 202
    stack.wait_for(lambda: _decided(conn) >= 2 * BATCH, timeout=60, what="the warm-up signals decided")
    before = _sessions(conn, stack.db_name)

    # when eight more batches are decided (eight tasks, and the receipt-log tasks they queue)
    for n in range(8):
        ids = [f"batch-{n}-{i}" for i in range(BATCH)]
        assert stack.post_signals(TENANT, ids).status_code == 202
    stack.wait_for(lambda: _decided(conn) >= 10 * BATCH, timeout=90, what="every batch decided")
    opened = _sessions(conn, stack.db_name) - before

    # then the worker opened no session per task: at most one new one per pool process
    assert opened <= 2, figures("worker_conns", tasks=8, sessions_opened=opened)
