"""Alerting & Notification client (spec 12.4): ``POST /api/v1/notifications/mmm``.

httpx with ``ALERTING_TIMEOUT_SECONDS`` (2.0 s), the delivery id as ``Idempotency-Key``, and a
circuit breaker (5 failures, 60 s). The caller (the ``delivery.send`` task) retries.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pybreaker
from django.conf import settings

from mmm_project.clients import PeerRejected, PeerUnavailable

NOTIFICATIONS_PATH = "/api/v1/notifications/mmm"
TRANSIENT_STATUSES = {408, 425, 429}

breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60, exclude=[PeerRejected], name="alerting")

_local = threading.local()


def _client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client()
    return client


def _post(notification: dict[str, Any]) -> None:
    try:
        response = _client().post(
            settings.ALERTING_URL.rstrip("/") + NOTIFICATIONS_PATH,
            json=notification,
            headers={"Idempotency-Key": str(notification["notification_id"])},
            timeout=settings.ALERTING_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise PeerUnavailable(f"Alerting unreachable: {type(exc).__name__}") from exc
    if response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES:
        raise PeerUnavailable(f"Alerting answered HTTP {response.status_code}")
    if response.status_code >= 400 and response.status_code != 409:
        raise PeerRejected(f"Alerting refused the notification: HTTP {response.status_code}")


def send_notification(notification: dict[str, Any]) -> None:
    """Deliver one notification.

    Raises:
        PeerUnavailable: timeout, connection error, 5xx, 408/425/429, or the breaker is open.
        PeerRejected: any other 4xx (409, already received under this key, counts as delivered).
    """
    try:
        breaker.call(_post, notification)
    except pybreaker.CircuitBreakerError as exc:
        raise PeerUnavailable("Alerting circuit breaker is open") from exc
