"""Backlog gauges an operator watches first (NFR-6, FR-15): what is waiting to be sent or decided.

Computed from the database when Prometheus scrapes (``/v1/mmm/metrics``), so every process kind's
work is counted whichever process answers, and cached ``CACHE_SECONDS`` so scrapes stay cheap:

- ``mmm_outbox_rows{outbox="receipts"|"deliveries", status="pending"|"sending"|"failed"}``;
- ``mmm_outbox_oldest_pending_seconds{outbox}``: age of the oldest row still waiting;
- ``mmm_signals_undecided``, ``mmm_signals_oldest_undecided_seconds``: stored signals not decided yet;
- ``mmm_receipt_log_waiting``, ``mmm_receipt_log_lag_seconds``: receipts not in their tenant's
  tamper-evident log yet, and the age of the oldest (the append lag; seconds when healthy).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from decisions.models import Delivery, Signal, SignalStatus
from mmm_project.residency import each_region
from receipts.models import Receipt, SignedTreeHead

CACHE_SECONDS = 15
OUTBOX_STATUSES = ("pending", "sending", "failed")
OUTBOXES = (
    ("receipts", Receipt, "created_at"),
    ("deliveries", Delivery, "created_at"),
    ("tree_heads", SignedTreeHead, "created_at"),
)


def backlog() -> dict[str, Any]:
    """``{"outboxes": {name: {"rows": {status: n}, "oldest_seconds": s}}, "signals": {...}}``, over
    every region (NFR-3): counts add up, ages are the oldest."""
    now = timezone.now()
    parts = [_region_backlog(now) for _ in each_region()]
    return parts[0] if len(parts) == 1 else _combined(parts)


def _combined(parts: list[Any]) -> Any:
    """Sum counts and take the largest age, leaf by leaf, across the regions' backlogs."""
    if isinstance(parts[0], dict):
        return {key: _combined([part[key] for part in parts]) for key in parts[0]}
    return max(parts) if isinstance(parts[0], float) else sum(parts)


def _region_backlog(now: datetime) -> dict[str, Any]:
    """``backlog()`` of the region in context."""
    outboxes = {}
    for name, model, created in OUTBOXES:
        rows = dict(
            model.objects.filter(status__in=OUTBOX_STATUSES)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        oldest = model.objects.filter(status__in=("pending", "sending")).aggregate(at=Min(created))["at"]
        outboxes[name] = {
            "rows": {status: rows.get(status, 0) for status in OUTBOX_STATUSES},
            "oldest_seconds": (now - oldest).total_seconds() if oldest else 0.0,
        }
    waiting = Signal.objects.filter(status__in=(SignalStatus.RECEIVED, SignalStatus.DECIDING))
    summary = waiting.aggregate(n=Count("pk"), oldest=Min("received_at"))
    unlogged = Receipt.objects.filter(leaf_index__isnull=True).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    return {
        "receipt_log": {
            "waiting": unlogged["n"],
            "lag_seconds": (now - unlogged["oldest"]).total_seconds() if unlogged["oldest"] else 0.0,
        },
        "outboxes": outboxes,
        "signals": {
            "undecided": summary["n"],
            "oldest_seconds": (now - summary["oldest"]).total_seconds() if summary["oldest"] else 0.0,
        },
    }


class BacklogCollector(Collector):
    """The gauges above, from ``backlog()`` (cached)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            data = cache.get_or_set("metrics:backlog", backlog, timeout=CACHE_SECONDS)
        except Exception:  # noqa: BLE001 - the cache is down: count without it, or report nothing
            try:
                data = backlog()
            except DatabaseError:
                return
        rows = GaugeMetricFamily("mmm_outbox_rows", "Outbox rows by status.", labels=["outbox", "status"])
        oldest = GaugeMetricFamily(
            "mmm_outbox_oldest_pending_seconds",
            "Age of the oldest row waiting to be sent.",
            labels=["outbox"],
        )
        for name, outbox in data["outboxes"].items():
            for status, count in outbox["rows"].items():
                rows.add_metric([name, status], count)
            oldest.add_metric([name], outbox["oldest_seconds"])
        yield rows
        yield oldest
        yield GaugeMetricFamily(
            "mmm_signals_undecided", "Stored signals not decided yet.", value=data["signals"]["undecided"]
        )
        yield GaugeMetricFamily(
            "mmm_signals_oldest_undecided_seconds",
            "Age of the oldest stored signal not decided yet.",
            value=data["signals"]["oldest_seconds"],
        )
        yield GaugeMetricFamily(
            "mmm_receipt_log_waiting",
            "Receipts not in their tenant's receipt log yet.",
            value=data["receipt_log"]["waiting"],
        )
        yield GaugeMetricFamily(
            "mmm_receipt_log_lag_seconds",
            "Age of the oldest receipt not in its tenant's receipt log yet (append lag).",
            value=data["receipt_log"]["lag_seconds"],
        )
