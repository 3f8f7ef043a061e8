"""Policy & Config client (spec 12.7, 15.5, FR-11): ``POST /v1/policy/tenants/{id}/evaluate``.

Timeout ``POLICY_TIMEOUT_SECONDS`` (0.5 s). The answer is a snapshot: ``allowed``,
``policy_snapshot_id``, ``policy_version_ids``, ``restrictions`` (disallowed action types, tags or
operations), ``override_windows``. Caching and the stale/fail-closed rules are in
``decisions.peers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

client = PeerClient("policy", url_setting="POLICY_URL", timeout_setting="POLICY_TIMEOUT_SECONDS")


@dataclass(frozen=True)
class PolicySnapshot:
    allowed: bool
    policy_snapshot_id: str
    policy_version_ids: tuple[str, ...]
    restrictions: tuple[str, ...]
    override_windows: tuple[Any, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "policy_snapshot_id": self.policy_snapshot_id,
            "policy_version_ids": list(self.policy_version_ids),
            "restrictions": list(self.restrictions),
            "override_windows": list(self.override_windows),
        }

    @classmethod
    def parse(cls, body: Any) -> PolicySnapshot:
        """Raises PeerUnavailable for an answer that is not a policy snapshot (fail safe)."""
        try:
            return cls(
                allowed=body["allowed"] is True,
                policy_snapshot_id=str(body["policy_snapshot_id"]),
                policy_version_ids=tuple(str(v) for v in body.get("policy_version_ids", [])),
                restrictions=tuple(str(r) for r in body.get("restrictions", [])),
                override_windows=tuple(body.get("override_windows", [])),
            )
        except (KeyError, TypeError) as exc:
            raise PeerUnavailable("policy answered with something that is not a snapshot") from exc


def evaluate(*, tenant_id: str, context: dict[str, Any]) -> PolicySnapshot:
    """Evaluate the tenant's policy for a decision context (metadata only, NFR-3)."""
    body = client.call(
        "POST", f"/v1/policy/tenants/{tenant_id}/evaluate", json={"tenant_id": tenant_id, "context": context}
    )
    return PolicySnapshot.parse(body)
