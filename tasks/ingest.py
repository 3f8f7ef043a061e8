"""Ingestion tasks (queue ``ingest``): decide on stored signals; sweep those left undecided (FR-1)."""

from __future__ import annotations

from celery import shared_task

from decisions.ingest import signal_decide, signal_give_up, signals_sweep

RETRY_COUNTDOWNS = (1, 5, 30)  # seconds: database or cache trouble usually passes


@shared_task(name="ingest.decide", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def decide_signal(self, signal_pk: str) -> str:
    """Decide on one stored signal (idempotent: a decided signal is skipped).

    Bad data is marked failed inside ``signal_decide``; any other error is retried, and after
    the last retry the signal is marked failed with the error, so the sweep does not loop on it.
    """
    try:
        return signal_decide(signal_pk=signal_pk)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            return signal_give_up(signal_pk=signal_pk, error=exc)
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWNS[self.request.retries]) from exc


@shared_task(name="ingest.sweep", acks_late=True)
def sweep_signals() -> int:
    """Beat task: re-enqueue signals left undecided (broker down, worker lost)."""
    return signals_sweep()
