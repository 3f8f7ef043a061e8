"""The retry shape shared by tasks that call a peer: 0.5, 1 and 2 s, then leave it to a sweep."""

from __future__ import annotations

from collections.abc import Callable

from celery import Task

from mmm_project.clients import PeerUnavailable

# Seconds before each retry (spec 12.6, NFR-6). Explicit: Celery's retry_backoff rounds its
# factor up to a whole second, which would give 1, 2 and 4 s.
RETRY_COUNTDOWNS = (0.5, 1.0, 2.0)


def call_peer_with_retries(task: Task, send: Callable[[], str], still_waiting: Callable[[], str]) -> str:
    """Run ``send``; on ``PeerUnavailable`` retry ``task`` after the next countdown.

    After the last retry, return ``still_waiting()`` (the row's status; the sweep takes over).
    """
    try:
        return send()
    except PeerUnavailable as exc:
        if task.request.retries >= len(RETRY_COUNTDOWNS):
            return still_waiting()
        raise task.retry(exc=exc, countdown=RETRY_COUNTDOWNS[task.request.retries]) from exc
