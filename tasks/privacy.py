"""Privacy tasks (queue ``maintenance``): actor deletion in bounded batches (NFR-3, PR-MMM-02)."""

from __future__ import annotations

from celery import shared_task

from decisions.privacy.services import actor_deletion_run, deletion_requests_sweep
from tasks.regions import sweep_every_region


@shared_task(name="privacy.delete", acks_late=True)
def actor_deletion_run_task(request_id: str) -> bool:
    """One batch of a deletion request (``actor_deletion_run``); re-enqueues itself while more is left."""
    more = actor_deletion_run(request_id=request_id)
    if more:
        actor_deletion_run_task.apply_async(args=[request_id], countdown=1)
    return more


@shared_task(name="privacy.sweep", acks_late=True)
def deletion_requests_sweep_task() -> int:
    """Beat task (``deletion_requests_sweep``): re-enqueue unfinished deletion requests."""
    return sweep_every_region(deletion_requests_sweep)
