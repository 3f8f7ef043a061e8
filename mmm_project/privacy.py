"""Keys that name an actor without holding the actor's id (NFR-3, PR-MMM-02). No Django.

Cache and Redis keys (fatigue counters, cached preferences, recent signals) use ``actor_ref``: a
SHA-256 of the tenant and actor id, so ``KEYS *`` on the cache shows no actor id. It is a lookup
key, not a pseudonym for the ledger: receipts use keyed pseudonyms (``receipts.pseudonyms``).
"""

from __future__ import annotations

import hashlib


def actor_ref(tenant_id: str, actor_id: str) -> str:
    """32 hex characters naming ``(tenant_id, actor_id)`` in cache keys."""
    return hashlib.sha256(f"{tenant_id}\x00{actor_id}".encode()).hexdigest()[:32]
