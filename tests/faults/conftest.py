"""Fixtures of the fault suite: private PostgreSQL and Redis for the session, a service stack per test.

Every instance and process started here is stopped by a finalizer, on failure too.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.faults.instances import PrivatePostgres, PrivateRedis, postgres_bin, scratch_dir
from tests.faults.stack import Stack
from tests.integration.helpers import ROOT, child_env


@pytest.fixture(autouse=True)
def _quiet_http_log():
    """The test client and the fake peers log every request at INFO; the figures are what matter."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster with a migrated ``mmm_template`` database each scenario copies."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pg = PrivatePostgres(bin_dir)
    try:
        pg.start()
        url = pg.create_database("mmm_template")
        scratch = scratch_dir("migrate")
        env = child_env(scratch, DATABASE_URL=url)
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        shutil.rmtree(scratch, ignore_errors=True)
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
        yield pg
    finally:
        pg.close()


def _redis(name: str) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(name)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def private_cache() -> Iterator[PrivateRedis]:
    """The private Redis behind ``REDIS_URL`` (cache and fatigue counters): the one scenario 3 kills."""
    yield from _redis("cache")


@pytest.fixture(scope="session")
def private_broker() -> Iterator[PrivateRedis]:
    """The private Redis used as Celery broker (its own server, so killing the cache spares it)."""
    yield from _redis("broker")


@pytest.fixture
def make_stack(private_postgres, private_cache, private_broker) -> Iterator[Callable[..., Stack]]:
    """``make_stack(name, **env)``: a scenario's service stack, closed (every process) at teardown."""
    stacks: list[Stack] = []

    def _make(name: str, **env: str) -> Stack:
        stack = Stack(name, private_postgres, private_cache, private_broker, env)
        stacks.append(stack)
        return stack

    yield _make
    for stack in stacks:
        stack.close()
