"""IAM client (spec 12.8, 15.2): ``POST /v1/iam/verify`` and ``POST /v1/iam/decision``.

Timeout ``IAM_TIMEOUT_SECONDS`` (2.0 s); breaker 5 failures / 60 s. ``verify`` answers
``{"valid": bool, "claims": {sub, tenant_id, actor_type, roles, scope, exp}}``; ``decision``
answers ``{"allowed": bool, "roles": [...]}`` for an actor and an action in a tenant.
"""

from __future__ import annotations

from typing import Any

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

client = PeerClient("iam", url_setting="IAM_URL", timeout_setting="IAM_TIMEOUT_SECONDS")


def verify(token: str) -> dict[str, Any] | None:
    """The token's claims when IAM says it is valid, else None. Raises PeerUnavailable."""
    body = client.call("POST", "/v1/iam/verify", json={"token": token})
    if not isinstance(body, dict) or not isinstance(body.get("valid"), bool):
        raise PeerUnavailable("iam answered without a verdict")
    if not body["valid"]:
        return None
    claims = body.get("claims")
    if not isinstance(claims, dict):
        raise PeerUnavailable("iam answered valid without claims")
    return claims


def decision(*, tenant_id: str, actor_id: str, action: str) -> tuple[bool, list[str]]:
    """``(allowed, the actor's roles)`` for ``action`` in ``tenant_id``. Raises PeerUnavailable."""
    body = client.call(
        "POST", "/v1/iam/decision", json={"tenant_id": tenant_id, "subject": actor_id, "action": action}
    )
    if not isinstance(body, dict) or not isinstance(body.get("allowed"), bool):
        raise PeerUnavailable("iam answered without a decision")
    return body["allowed"], [str(role) for role in body.get("roles", [])]
