"""ERIS client (spec 12.6, 15.3): ``POST /v1/evidence/receipts``, the receipt id as ``Idempotency-Key``.

Timeout ``ERIS_TIMEOUT_SECONDS`` (2.0 s); breaker 5 failures / 60 s (``clients.base``). The
Celery task retries with 0.5/1/2 s backoff, so a worker is never held asleep between attempts.
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients.base import PeerClient

RECEIPTS_PATH = "/v1/evidence/receipts"

client = PeerClient("eris", url_setting="ERIS_URL", timeout_setting="ERIS_TIMEOUT_SECONDS")
breaker = client.breaker


def post_receipt(document: dict[str, Any]) -> None:
    """Deliver one signed receipt document (409: already stored under this key, delivered).

    Raises PeerUnavailable (transient, breaker open) or PeerRejected (other 4xx).
    """
    client.call(
        "POST", RECEIPTS_PATH, json=document, headers={"Idempotency-Key": str(document["receipt_id"])}
    )
