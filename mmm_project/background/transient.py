"""Transient or permanent: what a failure means for work that was already accepted (NFR-6).

A transient failure (a peer answering 503 or not at all, the database, the cache or the broker
down, a timeout) says nothing about the work itself: it is retried with backoff and, failing that,
left for its sweep. Anything else is about the work (invalid data, an unknown tenant) or is a bug.
"""

from __future__ import annotations

from mmm_project.clients import PeerUnavailable
from mmm_project.errors import ApplicationError, unavailable_component


def transient_reason(exc: BaseException) -> str | None:
    """A short label (metric-safe) when ``exc`` is transient, else None.

    Transient: an ``ApplicationError`` answered with 5xx (``POLICY_UNAVAILABLE``, ``IAM_UNAVAILABLE``,
    ``NOT_READY``), ``PeerUnavailable``, the database, cache or broker unreachable, a timeout.
    """
    if isinstance(exc, ApplicationError):
        return exc.code.lower() if exc.status_code >= 500 else None
    if isinstance(exc, PeerUnavailable):
        return "peer_unavailable"
    component = unavailable_component(exc)
    if component is not None:
        return component
    if isinstance(exc, TimeoutError | ConnectionError):
        return "timeout"
    return None
