"""The decide's first read is its own connection health check (``mmm_project.database.checked``):
no ``SELECT 1`` before it, and a connection the server dropped is replaced, the read answered."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from mmm_project.database.checked import as_health_check

pytestmark = [
    pytest.mark.django_db(transaction=True),  # autocommit, as a request runs
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a server that drops connections"),
]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def checks(monkeypatch):
    """The health checks Django runs itself (``is_usable``: a ``SELECT 1``), counted."""
    calls = []
    usable = connection.is_usable

    def counted():
        calls.append(1)
        return usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    return calls


def _check_due() -> None:
    """What the start of a request or task does to a persistent connection (CONN_HEALTH_CHECKS)."""
    connection.ensure_connection()
    connection.health_check_done = False


def test_a_due_check_is_the_read_itself(checks):
    _check_due()
    assert as_health_check(connection, _backend_pid) == connection.connection.info.backend_pid
    assert checks == []  # no SELECT 1 before the read
    assert connection.health_check_done  # nor before the request's next statement
    _backend_pid()
    assert checks == []


def test_a_connection_the_server_dropped_is_replaced_and_the_read_answered(checks):
    _check_due()
    dropped = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [dropped])
    reads = []

    def read() -> int:
        reads.append(1)
        return _backend_pid()

    pid = as_health_check(connection, read)
    assert pid != dropped and pid == connection.connection.info.backend_pid
    assert len(reads) == 2  # failed on the dropped connection, answered on a new one


def test_a_failing_read_on_a_live_connection_is_raised_not_retried(checks):
    _check_due()
    pid = connection.connection.info.backend_pid
    reads = []

    def read() -> None:
        reads.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 1")
            try:
                cursor.execute("SELECT pg_sleep(0.2)")  # canceled: an OperationalError
            finally:
                cursor.execute("RESET statement_timeout")

    with pytest.raises(OperationalError):
        as_health_check(connection, read)
    assert reads == [1]
    assert connection.connection.info.backend_pid == pid  # kept


def test_inside_a_transaction_a_read_is_only_a_read(checks):
    with transaction.atomic():  # Django checks the connection as the transaction begins
        connection.health_check_done = False
        as_health_check(connection, _backend_pid)
    assert checks == [1]  # Django's own check ran: a read that cannot be retried claims nothing
