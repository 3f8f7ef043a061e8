"""Alerting & Notification client (spec 12.4): ``POST /api/v1/notifications/mmm``.

Timeout ``ALERTING_TIMEOUT_SECONDS`` (2.0 s), the delivery id as ``Idempotency-Key``, breaker
5 failures / 60 s. The ``delivery.send`` task retries.
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients.base import PeerClient

NOTIFICATIONS_PATH = "/api/v1/notifications/mmm"

client = PeerClient("alerting", url_setting="ALERTING_URL", timeout_setting="ALERTING_TIMEOUT_SECONDS")
breaker = client.breaker


def send_notification(notification: dict[str, Any]) -> None:
    """Deliver one notification (409 counts as delivered).

    Raises PeerUnavailable (transient, breaker open) or PeerRejected (other 4xx).
    """
    client.call(
        "POST",
        NOTIFICATIONS_PATH,
        json=notification,
        headers={"Idempotency-Key": str(notification["notification_id"])},
    )
