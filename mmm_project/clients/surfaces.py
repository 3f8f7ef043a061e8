"""Push delivery to the Edge Agent (IDE surface) and to CI (CI/PR surface), FR-8.

The spec names no paths for these; this engine's contract is ``POST /v1/edge/mmm/nudges`` and
``POST /v1/ci/mmm/annotations``, each receiving the same notification document as Alerting
(with that surface's payload) and the delivery id as ``Idempotency-Key``. Unset URLs: the IDE
pulls ``/v1/mmm/actors/{actor_id}/nudges`` and CI reads the decision.
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients.base import PeerClient

edge_agent = PeerClient(
    "edge_agent", url_setting="EDGE_AGENT_URL", timeout_setting="EDGE_AGENT_TIMEOUT_SECONDS"
)
ci = PeerClient("ci", url_setting="CI_DELIVERY_URL", timeout_setting="CI_DELIVERY_TIMEOUT_SECONDS")

PATHS = {"ide": (edge_agent, "/v1/edge/mmm/nudges"), "ci": (ci, "/v1/ci/mmm/annotations")}


def push(surface: str, document: dict[str, Any]) -> None:
    """Raises PeerUnavailable (transient, breaker open) or PeerRejected (other 4xx)."""
    client, path = PATHS[surface]
    client.call("POST", path, json=document, headers={"Idempotency-Key": str(document["notification_id"])})
