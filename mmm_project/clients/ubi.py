"""UBI client (spec 12.1, FR-2): ``GET /v1/ubi/signals/recent?tenant_id&actor_id&limit``.

Timeout ``UBI_TIMEOUT_SECONDS`` (1.0 s). Only each signal's id, event type, severity and ``ts``
(ISO 8601, "" when absent) are kept
(NFR-3); when unavailable the engine decides with no recent signals (NFR-6).
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

client = PeerClient("ubi", url_setting="UBI_URL", timeout_setting="UBI_TIMEOUT_SECONDS")


def recent_signals(*, tenant_id: str, actor_id: str, limit: int) -> list[dict[str, str]]:
    """The actor's recent behavioural signals, newest first, metadata only. Raises PeerUnavailable."""
    body = client.call(
        "GET", "/v1/ubi/signals/recent", params={"tenant_id": tenant_id, "actor_id": actor_id, "limit": limit}
    )
    items: Any = body.get("signals") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise PeerUnavailable("ubi answered without a list of signals")
    return [
        {
            "signal_id": str(s.get("signal_id", "")),
            "event_type": str(s.get("event_type", "")),
            "severity": str(s.get("severity", "info")),
            "ts": str(s.get("ts") or ""),
        }
        for s in items[:limit]
        if isinstance(s, dict)
    ]
