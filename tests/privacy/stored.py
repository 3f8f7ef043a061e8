"""What the database holds, read as text: the privacy tests' view of stored rows."""

from __future__ import annotations

from django.db import connection


def rows_naming(value: str) -> dict[str, int]:
    """``{table: rows}`` of every ``mmm_*`` table with a row whose text form contains ``value``."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if not table.startswith("mmm_"):
                continue
            cursor.execute(f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE %s', [f"%{value}%"])
            (count,) = cursor.fetchone()
            if count:
                found[table] = count
    return found
