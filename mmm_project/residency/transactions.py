"""Transactions and raw connections on the current region's database (NFR-3).

``transaction.atomic()`` and ``transaction.on_commit()`` use the ``default`` alias unless told
otherwise; tenant-scoped work runs on the tenant's region, so it uses these instead: the block,
its ``select_for_update()`` locks and its after-commit work all belong to the database the
queries go to. With one region they are exactly ``atomic()`` and ``on_commit()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from mmm_project.residency.context import current_alias


def tenant_atomic(*, savepoint: bool = True, durable: bool = False) -> transaction.Atomic:
    """``transaction.atomic`` on the current region's database.

    Raises:
        NoRegionContext: several regions and no tenant or region in context.
    """
    return transaction.atomic(using=current_alias(), savepoint=savepoint, durable=durable)


def tenant_on_commit(func: Callable[[], Any]) -> None:
    """``transaction.on_commit`` on the current region's database (at once outside a block)."""
    transaction.on_commit(func, using=current_alias())


def tenant_connection() -> BaseDatabaseWrapper:
    """The current region's connection, for raw SQL over tenant-scoped tables."""
    return connections[current_alias()]
