"""One cache round trip for the cached reads of a decision, under way while the decision queries
the database (NFR-1 latency budget).

A decision reads several small entries of the shared cache: its tenant's configuration generation,
the actor's preferences, the actor's pseudonym key. ``cache_prefetch(keys)`` sends one ``MGET``
for them at once and, for the rest of the block, ``cache_get`` answers those keys from it: the
answer is awaited by the first ``cache_get`` that needs it, so whatever the caller does in between
(the decision's database lookup) overlaps the cache's round trip. Every reader in the decision sees
the same values; a key not read ahead falls through to ``cache.get``. Writes are not affected.

The request is sent ahead on django-redis (services mode) through redis-py's connection API; any
other cache (the embedded default), or a send or read that fails, is read by ``cache.get_many``
when first needed, as before: same values, same errors.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


class _ReadAhead:
    """``keys`` requested from the cache, answered once (``values``)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = frozenset(keys)
        self._order = keys
        self._found: dict[str, Any] | None = None
        self._pending: tuple[Any, Any] | None = None
        if keys:
            self._pending = _send(keys)

    def values(self) -> dict[str, Any]:
        if self._found is None:
            found = _receive(self._pending, self._order) if self._pending is not None else None
            self._pending = None
            self._found = found if found is not None else (cache.get_many(self._order) or {})
        return self._found

    def close(self) -> None:
        """Give back a connection whose answer nobody read."""
        if self._pending is not None:
            _receive(self._pending, self._order)
            self._pending = None


def _send(keys: list[str]) -> tuple[Any, Any] | None:
    """``MGET keys`` sent on a connection of django-redis's pool, not awaited: ``(pool,
    connection)``; None on any other cache, or when the send fails."""
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    if get_client is None or not hasattr(client, "decode"):
        return None
    pool = connection = None
    try:
        pool = get_client(write=False).connection_pool
        connection = pool.get_connection()
        connection.send_command("MGET", *(client.make_key(key) for key in keys))
        return pool, connection
    except Exception:  # noqa: BLE001 - any failure: the usual get_many, its errors
        if connection is not None:
            connection.disconnect()
            pool.release(connection)
        return None


def _receive(pending: tuple[Any, Any], keys: list[str]) -> dict[str, Any] | None:
    """The answer of ``_send`` for ``keys``, decoded as ``get_many`` decodes it; None when it
    cannot be read."""
    pool, connection = pending
    try:
        answer = connection.read_response()
    except Exception:  # noqa: BLE001 - a timeout, a dropped connection: the usual get_many
        connection.disconnect()
        logger.debug("cache read-ahead failed; read again")
        return None
    finally:
        pool.release(connection)
    client = cache.client
    return {key: client.decode(value) for key, value in zip(keys, answer, strict=True) if value is not None}


_prefetched: ContextVar[_ReadAhead | None] = ContextVar("mmm_cache_prefetched", default=None)


@contextmanager
def cache_prefetch(keys: Iterable[str]) -> Iterator[None]:
    """Request ``keys`` at once; inside the block ``cache_get`` answers them from that request
    (None for a key the cache does not hold, as ``cache.get`` would), the first one waiting for it.

    Raises (from the first ``cache_get`` of a key read ahead): what ``cache.get_many`` raises
    when the cache cannot answer.
    """
    read = _ReadAhead(list(keys))
    token = _prefetched.set(read)
    try:
        yield
    finally:
        _prefetched.reset(token)
        read.close()


def cache_get(key: str) -> Any:
    """``cache.get(key)``, answered from the surrounding ``cache_prefetch`` when it read ``key``."""
    read = _prefetched.get()
    if read is not None and key in read.keys:
        return read.values().get(key)
    return cache.get(key)
