"""Ingestion tasks (queue ``ingest``): decide on stored signals; sweep those left undecided (FR-1)."""

from __future__ import annotations

from celery import shared_task

from decisions.intake.services import signal_fail, signals_sweep
from decisions.services.decide import signal_decide

RETRY_COUNTDOWNS = (1, 5, 30)  # seconds: database or cache trouble usually passes


@shared_task(name="ingest.decide", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def signal_decide_task(self, signal_pk: str) -> str:
    """Decide on one stored signal (``signal_decide``; a decided signal is skipped).

    Bad data is marked failed inside ``signal_decide``; any other error is retried, and after
    the last retry the signal is marked failed with the error, so the sweep does not loop on it.
    """
    try:
        return signal_decide(signal_pk=signal_pk)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            return signal_fail(signal_pk=signal_pk, reason=f"{type(exc).__name__} after retries")
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWNS[self.request.retries]) from exc


@shared_task(name="ingest.sweep", acks_late=True)
def signals_sweep_task() -> int:
    """Beat task (``signals_sweep``): re-enqueue signals left undecided (broker down, worker lost)."""
    return signals_sweep()
