"""One cache round trip for the cached reads of a decision (NFR-1 latency budget).

A decision reads several small entries of the shared cache: its tenant's configuration generation,
the actor's preferences, the actor's pseudonym key. ``cache_prefetch(keys)`` reads them with one
``get_many`` (one Redis ``MGET``) and, for the rest of the block, ``cache_get`` answers those keys
from that read: every reader in the decision sees the same values, and a key not read ahead falls
through to ``cache.get``. Writes are not affected (``cache.set`` goes to the cache as before).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

_prefetched: ContextVar[dict[str, Any] | None] = ContextVar("mmm_cache_prefetched", default=None)


@contextmanager
def cache_prefetch(keys: Iterable[str]) -> Iterator[None]:
    """Read ``keys`` at once; inside the block ``cache_get`` answers them from this read (None for
    a key the cache does not hold, as ``cache.get`` would). A cache that cannot answer reads as
    empty, like ``cache.get`` with ignored exceptions."""
    keys = list(keys)
    found = cache.get_many(keys) or {}
    token = _prefetched.set({key: found.get(key) for key in keys})
    try:
        yield
    finally:
        _prefetched.reset(token)


def cache_get(key: str) -> Any:
    """``cache.get(key)``, answered from the surrounding ``cache_prefetch`` when it read ``key``."""
    prefetched = _prefetched.get()
    if prefetched is not None and key in prefetched:
        return prefetched[key]
    return cache.get(key)
