"""A Celery worker process's life: its memory and its database connections (issue 13).

Celery's Django fixup closes every database connection before and after each task unless
``CELERY_DB_REUSE_MAX`` is set (it then closes them every that many tasks): a worker opened a new
PostgreSQL connection, a new server process and its prepared statements, for every batch of
signals it decided (~3 a second during ingestion). With the setting, the worker treats a task as
Django treats a request: ``close_old_connections`` before and after it closes a connection past
``CONN_MAX_AGE`` or left broken or mid-transaction, and the first query of the next task checks the
connection first (``CONN_HEALTH_CHECKS``), so a restarted PostgreSQL costs one reconnect.
"""

from __future__ import annotations

from typing import Any


def connect_celery(signals: Any) -> None:
    """Connect this module's handlers to Celery's ``signals`` (``celery.signals``)."""
    signals.worker_process_init.connect(_freeze_loaded_objects, weak=False)
    signals.task_prerun.connect(_close_old_connections, weak=False)
    signals.task_postrun.connect(_close_old_connections, weak=False)


def _freeze_loaded_objects(**kwargs: object) -> None:
    """Each pool process sets the loaded app aside from the garbage collector."""
    from mmm_project.processes.memory import freeze_loaded_objects

    freeze_loaded_objects()


def _close_old_connections(task: Any = None, **kwargs: object) -> None:
    """Around a task run by a worker (not eagerly, inside its caller), close the database
    connections Django would close around a request."""
    request = getattr(task, "request", None)
    if request is None or getattr(request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
