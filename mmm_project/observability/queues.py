"""Celery queue depth per queue (FR-15, NFR-6), for the scrape: what waits for a worker, and whether
any worker consumes it.

- ``mmm_celery_queue_messages{queue}``: messages ready in the queue;
- ``mmm_celery_queue_consumers{queue}``: consumers attached (0 for every queue: no worker runs);
- ``mmm_celery_broker_up``: 1 when the broker answered the last look, else 0.

Read with a passive ``queue_declare`` per queue (the broker answers from its own counters: no
message is touched), shared between processes through the cache for ``CACHE_SECONDS``, so the
broker is asked at most once in that time whatever the scrape rate. Only in services mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CACHE_SECONDS = 15


def queue_names() -> list[str]:
    """The queues workers consume: the default queue and every queue of ``CELERY_TASK_ROUTES``."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {settings.CELERY_TASK_DEFAULT_QUEUE})


def queue_depths() -> dict[str, Any]:
    """``{"up": bool, "queues": {name: {"messages": n, "consumers": n}}}``; a queue the broker does
    not know yet (nothing published, no worker ever started) counts 0 and 0."""
    from mmm_project.celery import app

    queues: dict[str, dict[str, int]] = {}
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
            for name in queue_names():
                # A passive declare of a missing queue closes the channel: one channel per queue.
                channel = connection.channel()
                try:
                    _, messages, consumers = channel.queue_declare(queue=name, passive=True)
                except connection.channel_errors:
                    messages, consumers = 0, 0
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: BLE001, S110 - already closed by the broker
                        pass
                queues[name] = {"messages": messages, "consumers": consumers}
    except Exception:  # noqa: BLE001 - broker unreachable: reported as mmm_celery_broker_up 0
        return {"up": False, "queues": {}}
    return {"up": True, "queues": queues}


class QueueDepthCollector(Collector):
    """The gauges above, from ``queue_depths()`` (cached)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not settings.SERVICES_MODE:
            return
        try:
            data = cache.get_or_set("metrics:queues", queue_depths, timeout=CACHE_SECONDS)
        except Exception:  # noqa: BLE001 - the cache is down: ask the broker directly
            data = queue_depths()
        messages = GaugeMetricFamily(
            "mmm_celery_queue_messages", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "mmm_celery_queue_consumers",
            "Consumers on each Celery queue (one per worker, whatever its concurrency).",
            labels=["queue"],
        )
        for name, depth in data["queues"].items():
            messages.add_metric([name], depth["messages"])
            consumers.add_metric([name], depth["consumers"])
        yield messages
        yield consumers
        yield GaugeMetricFamily(
            "mmm_celery_broker_up", "1 when the broker answered the queue-depth look.", value=int(data["up"])
        )
