"""Retention tasks (queue ``maintenance``): daily purge of expired rows (NFR-3)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from decisions.retention import retention_purge_batch
from mmm_project.residency import each_region

logger = logging.getLogger(__name__)

# Rows per table per task run. Each run stays well inside the task soft time limit (60 s);
# a full batch re-enqueues the task rather than looping, so a backlog never holds a worker.
PURGE_BATCH_SIZE = 500


@shared_task(name="retention.purge", acks_late=True, ignore_result=False)
def retention_purge_task(batch_size: int = PURGE_BATCH_SIZE, batch: int = 1) -> dict[str, Any]:
    """Delete one batch of expired rows per table; re-enqueue while any remain, at most
    ``RETENTION_MAX_BATCHES_PER_RUN`` batches per daily run (the next day's run goes on).

    Idempotent: running it twice deletes nothing more than running it once would have.
    Returns ``{"decisions": n, "outcomes": n, "signals": n, "rejected_signals": n, "more": bool}``.
    """
    now, reports = timezone.now(), []
    for _ in each_region():  # every region's database in turn (NFR-3 residency)
        reports.append(dataclasses.asdict(retention_purge_batch(now=now, batch_size=batch_size)))
    counts = {key: sum(report[key] for report in reports) for key in reports[0] if key != "more"}
    counts["more"] = any(report["more"] for report in reports)
    logger.info("retention purge batch", extra=counts)
    if counts["more"] and batch < settings.RETENTION_MAX_BATCHES_PER_RUN:
        retention_purge_task.apply_async(kwargs={"batch_size": batch_size, "batch": batch + 1}, countdown=1)
    return counts
