"""A read that is its own connection health check: one round trip fewer on the decide path (NFR-1).

With ``CONN_HEALTH_CHECKS`` (``mmm_project.residency.databases``) Django checks a persistent
connection before the first statement of each request or task: a ``SELECT 1`` round trip, then the
statement. ``as_health_check(connection, read)`` runs the read instead and lets its outcome be the
check: a connection the server dropped (a restart, an idle timeout, a pooler) fails the read with
a connection error; it is then closed and the read runs once more on a new connection, as Django
would have reconnected after a failed ``SELECT 1``. Only for reads that may safely run twice (no
write, outside any transaction); any other error, or one on a connection still usable, is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

T = TypeVar("T")


def as_health_check(connection: BaseDatabaseWrapper, read: Callable[[], T]) -> T:
    """``read()``, standing for the health check ``connection`` owes (if any) before its next
    statement.

    Raises:
        django.db.Error: ``read``'s own error; or its second attempt's, after a connection error.
    """
    due = (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    )
    if not due:
        return read()
    connection.health_check_done = True  # this read checks the connection
    try:
        return read()
    except (OperationalError, InterfaceError):
        if connection.connection is not None and connection.is_usable():
            raise  # the statement failed, not the connection
        connection.close()
        return read()  # a new connection; Django checks nothing more on it
