"""Gold Standards client (spec 12.7, FR-11): ``GET /v1/standards?tenant_id&repo_id``.

Timeout ``GOLD_STANDARDS_TIMEOUT_SECONDS`` (0.5 s). Answers ``{"restrictions": [...]}``: action
types, tags or operations the standards forbid for the repository. When unavailable the engine
proposes Mirror actions only (fail safe).
"""

from __future__ import annotations

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

client = PeerClient(
    "gold_standards", url_setting="GOLD_STANDARDS_URL", timeout_setting="GOLD_STANDARDS_TIMEOUT_SECONDS"
)


def restrictions(*, tenant_id: str, repo_id: str) -> list[str]:
    """Raises PeerUnavailable (also for an answer without a restrictions list)."""
    body = client.call("GET", "/v1/standards", params={"tenant_id": tenant_id, "repo_id": repo_id})
    items = body.get("restrictions") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise PeerUnavailable("gold_standards answered without restrictions")
    return [str(item) for item in items]
