"""Model instances from rows a raw statement returned (``UPDATE ... RETURNING``), without a
``RawQuerySet`` per call (NFR-2: the worker claims every stored signal this way)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


def concrete_columns(model: type[models.Model], quote) -> str:
    """``"col", "col", ...``: every concrete column of ``model`` in field order, what
    ``model_from_row`` reads back."""
    return ", ".join(quote(field.column) for field in model._meta.concrete_fields)


def model_from_row(model: type[models.Model], connection: BaseDatabaseWrapper, row: Sequence[Any]):
    """The ``model`` instance of ``row`` (the values of ``concrete_columns``, in order), each value
    through the converters the ORM applies when it reads that column on ``connection`` (JSON text
    parsed, SQLite's dates and UUIDs), marked as loaded from that database (``Model.from_db``).

    Raises:
        ValueError: ``row`` does not hold one value per concrete field.
    """
    fields = model._meta.concrete_fields
    if len(row) != len(fields):
        raise ValueError(f"{model._meta.label}: {len(row)} values for {len(fields)} columns")
    values = []
    for field, value in zip(fields, row, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, None, values)
