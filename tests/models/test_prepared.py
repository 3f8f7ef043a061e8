"""The decide path's lookup and write are bound server-side and prepared once per connection on
PostgreSQL (``mmm_project.database.prepared``), with Django's query log and metrics kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mmm_project.database.prepared import prepared_cursor

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]

PROBE = "SELECT %s::text || 'mmm-prepared-probe'"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%mmm-prepared-probe%"]
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_is_prepared_with_its_values_apart_and_logged_as_usual():
    with CaptureQueriesContext(connection) as queries:
        for value in ("a", "b"):
            with prepared_cursor(connection) as cursor:
                cursor.execute(PROBE, [value])
                assert cursor.fetchone() == (f"{value}mmm-prepared-probe",)
    # one prepared statement, with a placeholder: the values never entered its text
    assert _prepared() == ["SELECT $1::text || 'mmm-prepared-probe'"]
    assert len([q for q in queries if "mmm-prepared-probe" in q["sql"]]) == 2  # Django's query log
    # and the connection's usual cursors still bind client-side
    from django.db.backends.postgresql.base import ServerBindingCursor

    with connection.cursor() as cursor:
        assert not isinstance(cursor.cursor, ServerBindingCursor)


def test_prepared_statements_can_be_turned_off(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    with prepared_cursor(connection) as cursor:
        cursor.execute(PROBE, ["c"])
        assert cursor.fetchone() == ("cmmm-prepared-probe",)
    assert _prepared() == []


def test_the_metrics_wrapper_still_counts_the_statements():
    from prometheus_client import REGISTRY

    def executed() -> float:
        return (
            REGISTRY.get_sample_value("django_db_execute_total", {"alias": "default", "vendor": "postgresql"})
            or 0.0
        )

    before = executed()
    with prepared_cursor(connection) as cursor:
        cursor.execute(PROBE, ["d"])
    assert executed() == before + 1
