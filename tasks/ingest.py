"""Ingestion tasks (queue ``ingest``): decide on stored signals; sweep those left undecided (FR-1)."""

from __future__ import annotations

from celery import shared_task

from decisions.intake.models import SignalStatus
from decisions.intake.services import signal_fail, signals_sweep
from decisions.services.decide import SignalDeferred, signal_decide
from mmm_project.background.queueing import enqueue
from tasks.regions import sweep_every_region

# Seconds before each retry: peer, database or cache trouble usually passes; after the last one
# the signal waits for the sweep (a minute later), and the sweep keeps trying for as long as the
# trouble lasts. Nothing accepted is given up on for a transient reason.
RETRY_COUNTDOWNS = (1, 5, 30)


@shared_task(name="ingest.decide", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def signal_decide_task(self, signal_pk: str) -> str:
    """Decide on one stored signal (``signal_decide``); idempotent through its claim.

    Transient failures are retried, then left ``received`` for the sweep; an unexpected error (a
    bug) is retried as often, then the signal is marked failed with the error's class so the
    sweep does not loop on it. Returns the signal's status (or ``skipped``).
    """
    try:
        return signal_decide(signal_pk=signal_pk)
    except SignalDeferred as exc:
        if self.request.retries >= self.max_retries:
            return SignalStatus.RECEIVED
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWNS[self.request.retries]) from exc
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            return signal_fail(signal_pk=signal_pk, reason=f"{type(exc).__name__} after retries")
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWNS[self.request.retries]) from exc


@shared_task(name="ingest.decide_batch", acks_late=True)
def signals_decide_task(signal_pks: list[str]) -> dict[str, int]:
    """Decide on stored signals one after the other (what intake enqueues; ``DECIDE_BATCH`` per
    task); returns ``{status: count}``.

    A signal that cannot be decided now (``SignalDeferred``) or hits an unexpected error is handed
    to ``ingest.decide`` with the first retry countdown, which retries it as for a single signal;
    if even that cannot be queued, the signal stays ``received`` for the sweep. Redelivered after
    a lost worker, the batch skips the signals already decided (their claims).
    """
    statuses: dict[str, int] = {}
    for signal_pk in signal_pks:
        try:
            status = signal_decide(signal_pk=signal_pk)
        except Exception:  # noqa: BLE001 - deferred or a bug: retried on its own (ingest.decide)
            enqueue(
                "ingest.decide",
                [signal_pk],
                from_request=False,
                run_eagerly=True,
                countdown=RETRY_COUNTDOWNS[0],
            )
            status = "retrying"
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


@shared_task(name="ingest.sweep", acks_late=True)
def signals_sweep_task() -> int:
    """Beat task (``signals_sweep``): re-enqueue signals left undecided (broker down, worker lost)."""
    return sweep_every_region(signals_sweep)
