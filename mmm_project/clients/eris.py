"""ERIS client (spec 12.6, 15.3): ``POST /v1/evidence/receipts``.

httpx with ``ERIS_TIMEOUT_SECONDS`` (2.0 s), the receipt id as ``Idempotency-Key``, and a circuit
breaker (pybreaker: opens after 5 consecutive failures, half-opens after 60 s for one trial call).
Retries are the caller's (the Celery task retries with 0.5/1/2 s backoff), so a worker is never
held asleep between attempts.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pybreaker
from django.conf import settings

from mmm_project.clients import PeerRejected, PeerUnavailable

RECEIPTS_PATH = "/v1/evidence/receipts"
TRANSIENT_STATUSES = {408, 425, 429}

breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60, exclude=[PeerRejected], name="eris")

_local = threading.local()


def _client() -> httpx.Client:
    # One pooled client per thread, created lazily so forked workers do not share sockets.
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client()
    return client


def _post(document: dict[str, Any], base_url: str, timeout: float) -> None:
    try:
        response = _client().post(
            base_url.rstrip("/") + RECEIPTS_PATH,
            json=document,
            headers={"Idempotency-Key": str(document["receipt_id"])},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise PeerUnavailable(f"ERIS unreachable: {type(exc).__name__}") from exc
    status = response.status_code
    if status >= 500 or status in TRANSIENT_STATUSES:
        raise PeerUnavailable(f"ERIS answered HTTP {status}")
    if status == 409:
        return  # already stored under this idempotency key: delivered
    if status >= 400:
        raise PeerRejected(f"ERIS refused the receipt: HTTP {status}")


def post_receipt(document: dict[str, Any]) -> None:
    """Deliver one signed receipt document to ERIS.

    Raises:
        PeerUnavailable: timeout, connection error, 5xx, 408/425/429, or the breaker is open.
        PeerRejected: any other 4xx (the document itself is refused).
    """
    try:
        breaker.call(_post, document, settings.ERIS_URL, settings.ERIS_TIMEOUT_SECONDS)
    except pybreaker.CircuitBreakerError as exc:
        raise PeerUnavailable("ERIS circuit breaker is open") from exc
