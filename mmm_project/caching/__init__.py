"""Per-process caches invalidated through Redis generations (NFR-1: "published playbooks with
their compiled CEL programs per process", active experiments).

A *generation* is a random token per ``(namespace, tenant)`` in the shared cache (Redis in services
mode). Writers call ``generation_bump`` (after their transaction commits); readers keep what they
loaded in a ``LocalCache`` together with the generation they loaded it under, and use it only while
the shared generation is unchanged and the entry is younger than ``max_age`` seconds (a bound for
a generation lost with a flushed cache). Reading costs one cache round trip, no database query.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

from mmm_project.caching.prefetch import cache_get  # a decision reads it with its other keys
from mmm_project.residency import tenant_on_commit

T = TypeVar("T")
# The namespace of what a decision reads of a tenant's configuration: tenant policy, published
# playbooks and their triggers, experiments. Any change to one invalidates the three.
TENANT_CONFIG = "tenant-config"


def generation_key(namespace: str, tenant_id: str) -> str:
    return f"gen:{namespace}:{tenant_id}"


def generation_get(namespace: str, tenant_id: str) -> str:
    """The tenant's current generation of ``namespace`` (``"0"`` before the first bump)."""
    return cache_get(generation_key(namespace, tenant_id)) or "0"


def generation_bump(*, namespace: str, tenant_id: str) -> None:
    """Invalidate every process's cached ``namespace`` entries of the tenant: now, and again once
    the caller's transaction commits, so rows a reader loaded before the commit (the old ones) are
    never used under the final generation."""
    key = generation_key(namespace, tenant_id)
    cache.set(key, uuid.uuid4().hex, timeout=None)
    tenant_on_commit(lambda: cache.set(key, uuid.uuid4().hex, timeout=None))


class LocalCache:
    """A bounded, thread-safe, per-process map ``key -> (generation, loaded_at, value)``.

    Args:
        max_entries: least recently used entries beyond this are dropped.
        max_age: seconds an entry is used at most, whatever the generation says.
    """

    instances: weakref.WeakSet[LocalCache] = weakref.WeakSet()

    def __init__(self, *, max_entries: int = 1024, max_age: float = 60.0) -> None:
        LocalCache.instances.add(self)
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[Any, tuple[str, float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, generation: str, load: Callable[[], T]) -> T:
        """The value cached for ``key`` under ``generation``, else ``load()`` (then cached)."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == generation and now - entry[1] < self.max_age:
                self._entries.move_to_end(key)
                return entry[2]
        value = load()
        with self._lock:
            self._entries[key] = (generation, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def peek(self, key: Any) -> Any:
        """The value last loaded for ``key``, whatever its generation or age (None if none): a
        guess to act on before the generation is known, checked against it afterwards."""
        with self._lock:
            entry = self._entries.get(key)
        return entry[2] if entry is not None else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def local_caches_clear() -> None:
    """Empty every ``LocalCache`` of the process (tests; a cache flush)."""
    for local in list(LocalCache.instances):
        local.clear()
