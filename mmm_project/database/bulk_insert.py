"""Rows of several models written by one SQL statement: the decide path's write (NFR-1, NFR-2).

A decision writes a signal, the decision, its actions, their deliveries and a receipt. On
PostgreSQL ``rows_insert`` sends them as one ``INSERT`` with a data-modifying ``WITH`` clause per
table, each reading its rows from one JSON parameter (``jsonb_populate_recordset``): one round
trip, one parse, five parameters, so no ORM compilation nor per-value literal binding, and, run
in autocommit, no ``BEGIN``/``COMMIT``. A single statement is atomic: every row is written or
none (a duplicate key raises ``IntegrityError`` and nothing is left behind). Foreign keys between
the rows are checked at the end of the statement, so their order does not matter.

``update`` adds one row's update to the same statement (a stored signal marked decided by the
decision written with it).

Other databases (the embedded default, SQLite) get one ``bulk_create`` per model in a transaction:
the same rows, the same all-or-nothing outcome.
"""

from __future__ import annotations

import datetime
import functools
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import orjson
from django.db import connections, models, router, transaction

from mmm_project.database.prepared import prepared_cursor

Batch = tuple[type[models.Model], Sequence[models.Model]]
# (Model, primary key, {field name: value}): one row changed with the inserts.
Update = tuple[type[models.Model], object, dict[str, Any]]


def rows_insert(batches: Iterable[Batch], *, using: str | None = None, update: Update | None = None) -> None:
    """Insert every instance of ``batches`` (``[(Model, [instance, ...]), ...]``) at once, and
    apply ``update`` (``(Model, pk, {field: value})``, no error when no row has that key) with them.

    Instances are complete, as ``bulk_create`` takes them (primary keys set by their defaults);
    afterwards they are marked saved (``_state.adding`` False) on the database used.
    ``using``: the database alias; by default the router's choice for the first model.

    Raises:
        django.db.IntegrityError: a constraint failed; nothing was written.
        TypeError: a value JSON cannot carry (the field is named).
    """
    batches = [(model, list(rows)) for model, rows in batches if rows]
    if not batches:
        return
    using = using or router.db_for_write(batches[0][0])
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            if update is not None:
                model, pk, values = update
                model._base_manager.using(using).filter(pk=pk).update(**values)
            for model, rows in batches:
                model._base_manager.using(using).bulk_create(rows)
        return
    params: list[Any] = []
    changed = None
    if update is not None:
        model, pk, values = update
        names = tuple(sorted(values))
        changed = (model, names)
        fields = [model._meta.get_field(name) for name in names]
        params += [field.get_db_prep_save(values[field.name], connection) for field in fields]
        params.append(model._meta.pk.get_db_prep_value(pk, connection))
    for model, rows in batches:
        plan = _plan(model)
        params.append(orjson.dumps([_row(plan, row) for row in rows], option=_OPTIONS).decode())
    sql = _statement(tuple(model for model, _ in batches), connection.ops.quote_name, changed)
    # Alone, the statement is its own transaction; inside the caller's, a savepoint keeps that
    # transaction usable when the statement fails (a duplicate signal is answered, not fatal).
    with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
        with prepared_cursor(connection) as cursor:  # parsed and planned once per connection
            cursor.execute(sql, params)
    for _, rows in batches:
        for row in rows:
            row._state.adding, row._state.db = False, using


_OPTIONS = orjson.OPT_NON_STR_KEYS


@functools.cache
def _fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(model._meta.concrete_fields)


@functools.cache
def _statement(
    tables: tuple[type[models.Model], ...],
    quote: Callable[[str], str],
    changed: tuple[type[models.Model], tuple[str, ...]] | None = None,
) -> str:
    """``WITH [u AS (UPDATE ...),] w0 AS (INSERT ...), ... INSERT ...``: one insert per model, rows
    from ``%s``; ``changed`` (model, field names) adds the update, values then key from ``%s``."""
    inserts = []
    if changed is not None:
        model, names = changed
        assignments = ", ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in names)
        inserts.append(
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608 - identifiers from models
            f"WHERE {quote(model._meta.pk.column)} = %s"
        )
    for model in tables:
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(field.column) for field in _fields(model))
        # Identifiers from the models' metadata only; the rows are bound parameters.
        inserts.append(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
            f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
        )
    *first, last = inserts
    if not first:
        return last
    return "WITH " + ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(first)) + " " + last


# Field classes whose value, when it already has one of these exact types (or is None), is the
# value the ORM would write: ``pre_save`` reads the attribute and ``get_prep_value`` returns it as
# is. Anything else (another type, a subclass, a field with its own ``pre_save``) goes through
# the field's methods. Most of a decide's ~120 values take this path (NFR-1).
_AS_IS: tuple[tuple[type[models.Field], tuple[type, ...]], ...] = (
    (models.BooleanField, (bool,)),
    (models.CharField, (str,)),
    (models.TextField, (str,)),
    (models.UUIDField, (uuid.UUID,)),
    (models.IntegerField, (int,)),
    (models.FloatField, (float,)),
)


@functools.cache
def _plan(model: type[models.Model]) -> tuple[tuple[str, str, tuple[type, ...], models.Field], ...]:
    """Per concrete field: ``(column, attname, types written as is, field)``, no types where the
    field's own methods always run (JSON, binary, dates and times, a custom ``pre_save``)."""
    plan = []
    for field in _fields(model):
        target = field.target_field if field.is_relation else field  # a foreign key: its key's type
        types: tuple[type, ...] = ()
        if type(field).pre_save is models.Field.pre_save and not isinstance(field, models.JSONField):
            types = next((t for cls, t in _AS_IS if isinstance(target, cls)), ())
        plan.append((field.column, field.attname, types, field))
    return tuple(plan)


def _row(plan: Sequence[tuple[str, str, tuple[type, ...], models.Field]], instance: models.Model) -> dict:
    """One row as JSON values PostgreSQL reads back into the column types (``bytea`` as hex)."""
    row: dict[str, Any] = {}
    values = instance.__dict__
    for column, attname, types, field in plan:
        value = values[attname] if attname in values else getattr(instance, attname)
        row[column] = value if types and (value is None or type(value) in types) else _value(field, instance)
    return row


def _value(field: models.Field, instance: models.Model) -> Any:
    """``field``'s value of ``instance`` through the field's own ``pre_save`` and ``get_prep_value``."""
    value = field.pre_save(instance, True)
    if isinstance(field, models.JSONField):
        # The field's own encoder, as the ORM would write it (JSONField.get_db_prep_value).
        return orjson.Fragment(json.dumps(value, cls=field.encoder)) if field.encoder else value
    value = field.get_prep_value(value)
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    if value is not None and not isinstance(value, _NATIVE):
        raise TypeError(
            f"{instance._meta.label}.{field.name}: {type(value).__name__} is not insertable as JSON"
        )
    return value


# What orjson writes in a form PostgreSQL's input functions read (uuid, timestamptz, date, arrays).
_NATIVE = (str, int, float, bool, list, tuple, dict, uuid.UUID, datetime.date)
