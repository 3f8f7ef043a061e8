"""The decide path's statements, bound and prepared by PostgreSQL (NFR-1).

Django binds values client-side: they are spliced into the statement's text, which PostgreSQL
parses and plans on every call, and the decide's one-statement write carries ~10 kB of row JSON.
``prepared_cursor`` gives a cursor (Django's wrappers: query log, metrics) whose statements travel
apart from their values and are prepared on first use, once per connection (psycopg's named
prepared statements). Only for fixed statements with few values (the lookup, the write, a
worker's claim of a stored signal): server-side binding everywhere would refuse a
``bulk_create`` of more than 65,535 values.
Behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21),
``DATABASE_PREPARED_STATEMENTS=false`` still binds server-side but prepares nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper


@cache
def _cursor_class(alias: str, instrumented: bool, prepare: bool) -> type:
    """Django's server-binding cursor, with django-prometheus's query metrics when the engine has
    them, preparing every statement it runs when ``prepare``."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    base: type = ServerBindingCursor
    if instrumented:
        from django_prometheus.db.common import ExportingCursorWrapper

        base = ExportingCursorWrapper(ServerBindingCursor, alias, "postgresql")

    class PreparedCursor(base):  # type: ignore[valid-type,misc]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", prepare or None)  # None: psycopg's threshold (off in Django)
            return super().execute(query, params, **kwargs)

        def _convert_query(self, query: Any, params: Any = None) -> Any:
            converted = super()._convert_query(query, params)
            # psycopg keeps the query only when it sends it unprepared; Django's query log
            # (DEBUG, CaptureQueriesContext) reads it for every statement.
            self._query = converted
            return converted

    return PreparedCursor


@contextmanager
def prepared_cursor(connection: BaseDatabaseWrapper) -> Iterator[CursorWrapper]:
    """``connection.cursor()`` binding server-side and preparing its statements (PostgreSQL only;
    another database gets its usual cursor)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = connection.connection
    factory, threshold = raw.cursor_factory, raw.prepare_threshold
    prepare = settings.DATABASE_PREPARED_STATEMENTS
    if prepare:  # Django leaves psycopg's preparation off (None): nothing would be prepared
        raw.prepare_threshold = 0
    instrumented = factory.__module__.startswith("django_prometheus")  # the engine's query metrics
    raw.cursor_factory = _cursor_class(connection.alias, instrumented, prepare)
    try:
        cursor = connection.cursor()
    finally:
        raw.cursor_factory = factory
    try:
        with cursor:
            yield cursor
    finally:
        raw.prepare_threshold = threshold
