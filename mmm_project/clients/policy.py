"""Policy & Config client (spec 12.7, 15.5, FR-11): ``POST /v1/policy/tenants/{id}/evaluate``.

Timeout ``POLICY_TIMEOUT_SECONDS`` (0.5 s). The answer is a snapshot: ``allowed``,
``policy_snapshot_id``, ``policy_version_ids``, ``restrictions`` (disallowed action types, tags or
operations), ``override_windows`` and ``exception_approvals`` (FR-11; shapes in
``decisions.engine.overrides``). Snapshots are cached here (60 s, and the last good one kept for
fallback); the stale and fail-closed rules are in ``decisions.services.peers``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from mmm_project.clients import PeerRejected, PeerUnavailable
from mmm_project.clients.base import PeerClient

logger = logging.getLogger(__name__)

POLICY_FRESH_SECONDS = 60  # spec 12.7: snapshots cached 60 s

client = PeerClient("policy", url_setting="POLICY_URL", timeout_setting="POLICY_TIMEOUT_SECONDS")


@dataclass(frozen=True)
class PolicySnapshot:
    allowed: bool
    policy_snapshot_id: str
    policy_version_ids: tuple[str, ...]
    restrictions: tuple[str, ...]
    override_windows: tuple[Any, ...]
    exception_approvals: tuple[Any, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "policy_snapshot_id": self.policy_snapshot_id,
            "policy_version_ids": list(self.policy_version_ids),
            "restrictions": list(self.restrictions),
            "override_windows": list(self.override_windows),
            "exception_approvals": list(self.exception_approvals),
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
                exception_approvals=tuple(body.get("exception_approvals", [])),
            )
        except (KeyError, TypeError) as exc:
            raise PeerUnavailable("policy answered with something that is not a snapshot") from exc


def evaluate(*, tenant_id: str, context: dict[str, Any]) -> PolicySnapshot:
    """Evaluate the tenant's policy for a decision context (metadata only, NFR-3)."""
    body = client.call(
        "POST", f"/v1/policy/tenants/{tenant_id}/evaluate", json={"tenant_id": tenant_id, "context": context}
    )
    return PolicySnapshot.parse(body)


def snapshot_cache_keys(tenant_id: str) -> tuple[str, str]:
    return f"policy:fresh:{tenant_id}", f"policy:last:{tenant_id}"


def snapshot_invalidate(*, tenant_id: str) -> None:
    """Push invalidation (spec 12.7): the next decision fetches a new snapshot.

    The last good snapshot is kept: it is what a later outage may fall back on.
    """
    cache.delete(snapshot_cache_keys(tenant_id)[0])


@dataclass(frozen=True)
class PolicyFetch:
    snapshot: PolicySnapshot | None  # None: unavailable and no earlier snapshot
    unavailable: bool  # the Policy service did not answer; ``snapshot`` is the last one, if any
    age_seconds: float  # how old ``snapshot`` is


def snapshot_fetch(tenant_id: str, context: dict[str, Any]) -> PolicyFetch:
    """The tenant's snapshot: cached for 60 s (spec 12.7), else asked; on failure the last one.

    The last good snapshot is kept for a day so that an outage can fall back on it; how old a
    fallback may be, and what a safety-critical tenant gets, is the caller's rule (FR-11).
    """
    fresh_key, last_key = snapshot_cache_keys(tenant_id)
    cached = cache.get(fresh_key)
    if cached is not None:
        return PolicyFetch(PolicySnapshot.parse(cached), unavailable=False, age_seconds=0.0)
    try:
        snapshot = evaluate(tenant_id=tenant_id, context=context)
    except (PeerUnavailable, PeerRejected) as exc:
        logger.warning("policy unavailable", extra={"tenant_id": tenant_id, "error": str(exc)})
        last = cache.get(last_key)
        if last is None:
            return PolicyFetch(None, unavailable=True, age_seconds=float("inf"))
        age = time.time() - last["fetched_at"]
        return PolicyFetch(PolicySnapshot.parse(last["snapshot"]), unavailable=True, age_seconds=age)
    cache.set(fresh_key, snapshot.as_dict(), timeout=POLICY_FRESH_SECONDS)
    cache.set(last_key, {"snapshot": snapshot.as_dict(), "fetched_at": time.time()}, timeout=24 * 3600)
    return PolicyFetch(snapshot, unavailable=False, age_seconds=0.0)
