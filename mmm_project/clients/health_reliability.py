"""Health & Reliability Monitoring client (FR-2: "active incidents affecting the tenant/repo").

``GET /v1/health-reliability/incidents?tenant_id&repo_id&status=active&limit`` answers
``{"incidents": [{"incident_id", "status", "severity", "repo_id", "environment", "started_at"},
...]}`` (or the list itself), newest first. The spec names the integration, not its paths: this
is the contract the engine expects. ``HEALTH_RELIABILITY_URL`` and
``HEALTH_RELIABILITY_TIMEOUT_SECONDS`` (0.5 s) come from the environment (``clients.base``);
breaker 5 failures / 60 s. Only the fields above are kept (NFR-3), never an
incident's title, description or responders. Optional integration: when it is not configured the
engine reads the tenant's own ``incident.*`` signals; when it fails the decision goes on with no
incidents, in degraded mode (NFR-6).
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

INCIDENTS_PATH = "/v1/health-reliability/incidents"

client = PeerClient(
    "health_reliability",
    url_setting="HEALTH_RELIABILITY_URL",
    timeout_setting="HEALTH_RELIABILITY_TIMEOUT_SECONDS",
    default_timeout=0.5,
)


def active_incidents(*, tenant_id: str, repo_id: str, limit: int) -> list[dict[str, str]]:
    """The active incidents of the tenant (of ``repo_id`` when given), newest first: ``{"incident_id",
    "status", "severity", "repo_id", "environment", "ts"}`` strings (``ts`` ISO 8601).

    Raises PeerUnavailable (also for an answer without a list of incidents) or PeerRejected.
    """
    params: dict[str, Any] = {"tenant_id": tenant_id, "status": "active", "limit": limit}
    if repo_id:
        params["repo_id"] = repo_id
    body = client.call("GET", INCIDENTS_PATH, params=params)
    items: Any = body.get("incidents") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise PeerUnavailable("health_reliability answered without a list of incidents")
    return [
        {
            "incident_id": str(i.get("incident_id", "")),
            "status": str(i.get("status", "firing")),
            "severity": str(i.get("severity", "")),
            "repo_id": str(i.get("repo_id") or ""),
            "environment": str(i.get("environment") or ""),
            "ts": str(i.get("started_at") or i.get("ts") or ""),
        }
        for i in items[:limit]
        if isinstance(i, dict)
    ]
