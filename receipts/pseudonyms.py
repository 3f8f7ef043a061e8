"""Actor pseudonyms in receipts (NFR-3, PR-MMM-02): ``ap_`` + HMAC-SHA-256 of the actor id under a
random per-actor key (``ActorKey``), hex. Deleting the key unlinks every receipt from the actor.

Receipts written before pseudonyms held the raw actor id; ``receipt_create`` pseudonymises every
new one. How those older receipts are treated on actor deletion is ``legacy_receipts_redact``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core.cache import cache

from mmm_project.caching.prefetch import cache_get
from mmm_project.privacy import actor_ref
from mmm_project.residency import tenant_on_commit
from receipts.models import ActorKey

PREFIX = "ap_"


KEY_CACHE_SECONDS = 300  # like actor preferences (NFR-1): one cache read per receipt, no query


def key_cache_key(tenant_id: str, actor_id: str) -> str:
    """The cache key of an actor's pseudonym key (the actor named by a digest, never the id)."""
    return f"actor-key:{tenant_id}:{actor_ref(tenant_id, actor_id)}"


def _key(tenant_id: str, actor_id: str) -> bytes:
    """The actor's key: from the cache, else the table, else a new one created in the caller's
    transaction by ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint; a concurrent first use
    wins and its key is read)."""
    cache_key = key_cache_key(tenant_id, actor_id)
    cached = cache_get(cache_key)  # read ahead by a decision (decisions.services.decide)
    if cached is not None:
        return bytes(cached)
    stored = ActorKey.objects.filter(tenant_id=tenant_id, actor_id=actor_id).values_list("key", flat=True)
    key = stored.first()
    if key is None:
        new = ActorKey(tenant_id=tenant_id, actor_id=actor_id, key=secrets.token_bytes(32))
        ActorKey.objects.bulk_create([new], ignore_conflicts=True)
        key = stored.first()
    key = bytes(key)
    # Cached once the key is committed: a rolled-back first use must not leave a key in the cache.
    tenant_on_commit(lambda: cache.set(cache_key, key, timeout=KEY_CACHE_SECONDS))
    return key


def actor_pseudonym(*, tenant_id: str, actor_id: str) -> str:
    """The actor's pseudonym for receipts, creating its key on first use (in the caller's transaction)."""
    digest = hmac.new(_key(tenant_id, actor_id), actor_id.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest


# Admin states that list actors (tenant policy): their entries become pseudonyms too.
ACTOR_LISTS = ("dual_channel_approvers",)


def receipt_body_pseudonymise(body: dict) -> dict:
    """``body`` with its ``actor_id`` and the actor ids of admin ``before``/``after`` states replaced
    by pseudonyms of the body's tenant (``receipt_create`` signs the result)."""
    tenant_id = body["tenant_id"]
    out = {**body, "actor_id": actor_pseudonym(tenant_id=tenant_id, actor_id=str(body["actor_id"]))}
    for side in ("before", "after"):
        state = out.get(side)
        if isinstance(state, dict):
            out[side] = {
                key: [actor_pseudonym(tenant_id=tenant_id, actor_id=str(a)) for a in value]
                if key in ACTOR_LISTS and isinstance(value, list)
                else value
                for key, value in state.items()
            }
    return out


def is_pseudonym(value: str) -> bool:
    return value.startswith(PREFIX) and len(value) == len(PREFIX) + 64


def actor_key_destroy(*, tenant_id: str, actor_id: str) -> int:
    """Delete the actor's key (crypto-shredding) and its cached copy (now and after commit, so a
    receipt written meanwhile cannot cache it again); return how many keys went (0 or 1)."""
    cache_key = key_cache_key(tenant_id, actor_id)
    cache.delete(cache_key)
    deleted, _ = ActorKey.objects.filter(tenant_id=tenant_id, actor_id=actor_id).delete()
    tenant_on_commit(lambda: cache.delete(cache_key))
    return deleted
