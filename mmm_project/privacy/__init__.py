"""Keys that name an actor without holding the actor's id (NFR-3, PR-MMM-02). No Django.

Cache and Redis keys (fatigue counters, cached preferences, recent signals) use ``actor_ref``: a
SHA-256 of the tenant and actor id, so ``KEYS *`` on the cache shows no actor id. It is a lookup
key, not a pseudonym for the ledger: receipts use keyed pseudonyms (``receipts.pseudonyms``).
"""

from __future__ import annotations

import hashlib
import re


def actor_ref(tenant_id: str, actor_id: str) -> str:
    """32 hex characters naming ``(tenant_id, actor_id)`` in cache keys."""
    return hashlib.sha256(f"{tenant_id}\x00{actor_id}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


# An e-mail address anywhere in the value (NFR-3: no PII in the context; actor ids are opaque).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
EMAIL_MESSAGE = "must be an opaque id, not an e-mail address (NFR-3)"


def looks_like_email(value: str) -> bool:
    """True when ``value`` holds an e-mail address."""
    return bool(EMAIL.search(value))
