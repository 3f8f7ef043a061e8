"""Handing work to Celery from a request without ever making the request wait on the broker.

Rows are written first (the outbox); tasks only move them forward, and a beat sweep re-enqueues
whatever is still waiting, so a broker outage delays work but never loses it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pybreaker
from celery import Task, current_app

from mmm_project.background.after_response import after_commit_and_response

logger = logging.getLogger(__name__)

# Once publishing fails, requests stop trying for 30 s: their rows wait for the sweep instead of
# every request paying a connection attempt to a broker known to be down.
publish_breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=30, name="broker-publish")


def _task(name: str) -> Task:
    """The registered task called ``name``. Services name tasks rather than import them (tasks
    import services, never the reverse); the first lookup in a process that has not loaded the
    ``tasks`` package yet (the web process) runs Celery's autodiscovery, which imports it."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def _publish(task: Task, ids: list[str], countdown: float | None = None, batch: int = 1) -> None:
    """One message per id (per list of up to ``batch`` ids), all through one producer (one pooled
    broker connection)."""
    if batch > 1:
        arguments: list[object] = [ids[start : start + batch] for start in range(0, len(ids), batch)]
    else:
        arguments = list(ids)
    with task.app.producer_or_acquire() as producer:
        for argument in arguments:
            task.apply_async(args=[argument], retry=False, countdown=countdown, producer=producer)


def enqueue(
    task_name: str,
    ids: Iterable[str],
    *,
    from_request: bool = True,
    run_eagerly: bool = False,
    countdown: float | None = None,
    batch: int = 1,
) -> bool:
    """Queue the task ``task_name`` (``"receipts.emit"``...) once per id, with the id as its only
    argument (``batch`` > 1: once per list of up to ``batch`` ids, the list as its argument); False
    when the broker cannot take them (rows stay waiting for their sweep).

    In the embedded default (tasks eager, no broker) nothing is queued unless ``run_eagerly``:
    then the task runs here, at once. ``from_request`` guards publishing with ``publish_breaker``;
    sweeps, background jobs, always try (they are how waiting rows recover). ``countdown``
    (seconds) delays the task, e.g. so that it finds a batch of rows.
    """
    ids = [str(item) for item in ids]
    if not ids:
        return True
    if current_app.conf.task_always_eager and not run_eagerly:
        return False
    task = _task(task_name)
    try:
        if from_request and not current_app.conf.task_always_eager:
            publish_breaker.call(_publish, task, ids, countdown, batch)
        else:
            _publish(task, ids, countdown, batch)
    except pybreaker.CircuitBreakerError:
        return False
    except Exception as exc:  # noqa: BLE001 - broker down, or (eager) the task failed: rows wait for the sweep
        logger.warning(
            "enqueue failed; left for the sweep", extra={"task": task.name, "error": type(exc).__name__}
        )
        return False
    return True


def enqueue_after_commit(
    task_name: str,
    ids: Iterable[str],
    *,
    from_request: bool = True,
    run_eagerly: bool = False,
    countdown: float | None = None,
) -> None:
    """``enqueue`` once the caller's transaction commits (at once outside a transaction), so a
    worker never looks for a row that is not visible yet; nothing is queued on rollback. In a
    request, after its response is sent (``after_response``)."""
    ids = [str(item) for item in ids]
    if ids:
        after_commit_and_response(
            lambda: enqueue(
                task_name, ids, from_request=from_request, run_eagerly=run_eagerly, countdown=countdown
            )
        )
