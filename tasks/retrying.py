"""The retry shape shared by tasks that call a peer: 0.5, 1 and 2 s, then leave it to a sweep."""

from __future__ import annotations

from collections.abc import Callable

from celery import Task

from mmm_project.clients import PeerUnavailable

# Seconds before each retry (spec 12.6, NFR-6). Explicit: Celery's retry_backoff rounds its
# factor up to a whole second, which would give 1, 2 and 4 s.
RETRY_COUNTDOWNS = (0.5, 1.0, 2.0)


class GaveUpForNow(Exception):
    """A task's peer was still unavailable after its last retry. The row it was sending is recorded
    as waiting (``pending``) and the beat sweep sends it later: the task fails so that Flower and the
    task events show it as FAILURE, while nothing is lost."""


# Options of a task that sends an outbox row to a peer: its retries, and ``GaveUpForNow`` as an
# expected failure (Celery's ``throws``: the task is FAILURE, logged at INFO without a traceback,
# not one ERROR line per row all through a peer's outage).
PEER_TASK = {"max_retries": len(RETRY_COUNTDOWNS), "throws": (GaveUpForNow,)}


def call_peer_with_retries(
    task: Task,
    send: Callable[[], str],
    after_last_retry: Callable[[], str],
    *,
    fail_after_last_retry: bool,
) -> str:
    """Run ``send``; on ``PeerUnavailable`` retry ``task`` after the next countdown.

    After the last retry, ``after_last_retry()`` records the outcome (an outbox row stays pending
    for its sweep; an enrichment falls back to the static text) and gives its status; then, with
    ``fail_after_last_retry``, ``GaveUpForNow`` is raised (the task is FAILURE in Flower),
    otherwise the status is returned.
    """
    try:
        return send()
    except PeerUnavailable as exc:
        if task.request.retries >= len(RETRY_COUNTDOWNS):
            status = after_last_retry()
            if fail_after_last_retry:
                raise GaveUpForNow(
                    f"{task.name}: peer unavailable after {len(RETRY_COUNTDOWNS)} retries; "
                    f"left {status} for the sweep"
                ) from exc
            return status
        raise task.retry(exc=exc, countdown=RETRY_COUNTDOWNS[task.request.retries]) from exc
