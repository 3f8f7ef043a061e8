"""Data Governance client (spec 12.9, FR-2): ``GET /v1/data-governance/tenants/{id}/config``.

Timeout ``DATA_GOVERNANCE_TIMEOUT_SECONDS`` (0.5 s). Read: ``quiet_hours`` {start, end,
timezone}; when unavailable the engine uses 22:00-06:00 (NFR-6). ``retention`` {decisions_days,
outcomes_days, logs_days}: the tenant's retention windows (NFR-3); when unavailable, the defaults.
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

client = PeerClient(
    "data_governance", url_setting="DATA_GOVERNANCE_URL", timeout_setting="DATA_GOVERNANCE_TIMEOUT_SECONDS"
)


def quiet_hours(*, tenant_id: str) -> dict[str, Any]:
    """``{"start": 0-23, "end": 0-23, "timezone": IANA}``. Raises PeerUnavailable (also for a bad answer)."""
    body = client.call("GET", f"/v1/data-governance/tenants/{tenant_id}/config")
    try:
        hours = body["quiet_hours"]
        start, end = int(hours["start"]), int(hours["end"])
        zone = str(hours.get("timezone") or "UTC")
    except (KeyError, TypeError, ValueError) as exc:
        raise PeerUnavailable("data_governance answered without usable quiet hours") from exc
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise PeerUnavailable("data_governance answered quiet hours out of range")
    return {"start": start, "end": end, "timezone": zone}


def retention(*, tenant_id: str) -> dict[str, int]:
    """``{"decisions_days", "outcomes_days", "logs_days"}`` present in the tenant's config (each
    optional, positive whole days). Raises PeerUnavailable when unreachable or malformed."""
    body = client.call("GET", f"/v1/data-governance/tenants/{tenant_id}/config")
    found = body.get("retention") if isinstance(body, dict) else None
    if found is None:
        return {}
    try:
        windows = {
            key: int(found[key]) for key in ("decisions_days", "outcomes_days", "logs_days") if key in found
        }
    except (TypeError, ValueError) as exc:
        raise PeerUnavailable("data_governance answered unusable retention") from exc
    if any(days <= 0 for days in windows.values()):
        raise PeerUnavailable("data_governance answered a retention of no days")
    return windows
