"""Broker publishes a request makes, run once its response is sent (NFR-1 latency budget).

What a request hands to the broker after its transaction commits (Celery tasks, outbox
enqueues, event stream messages), and a decision's log line and metrics, need not hold up its
answer: rows are already committed, the sweeps recover anything the broker did not take, and
events are best effort. ``after_response`` keeps such work until Django's ``request_finished``
signal (sent once the WSGI server has written the whole response, or the test client has it),
then runs it in order, each in the context it was handed over in (its trace, FR-15: a task
published then still has the request's span as its parent; its request id); outside a request
(a Celery task, a management command, the broker intake) it runs at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import Context, ContextVar, copy_context
from typing import Any

from mmm_project.residency import tenant_on_commit

logger = logging.getLogger(__name__)

_pending: ContextVar[list[tuple[Context, Callable[[], Any]]] | None] = ContextVar(
    "mmm_after_response", default=None
)


def request_started(**kwargs: Any) -> None:
    """``request_started`` receiver: this request's list of deferred work."""
    _pending.set([])


def request_finished(**kwargs: Any) -> None:
    """``request_finished`` receiver: run the request's deferred work, in order; a failure is
    logged and the rest still runs."""
    pending = _pending.get()
    _pending.set(None)
    for context, func in pending or ():
        try:
            context.run(func)
        except Exception as exc:  # noqa: BLE001 - the response is sent; the sweeps recover the work
            logger.warning("work after the response failed", extra={"error": type(exc).__name__})


def after_response(func: Callable[[], Any]) -> None:
    """Run ``func`` once the current request's response is sent, or at once outside a request."""
    pending = _pending.get()
    if pending is None:
        func()
    else:
        pending.append((copy_context(), func))


def after_commit_and_response(func: Callable[[], Any]) -> None:
    """Run ``func`` once the current transaction commits (never on rollback) and the response is
    sent: how requests hand work to the broker."""
    tenant_on_commit(lambda: after_response(func))
