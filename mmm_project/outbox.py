"""The outbox pattern, once: rows written with the business change, sent by tasks, swept by beat.

A row model has ``status`` (pending, sending, sent, failed), ``attempts``, ``last_error``,
``updated_at`` and a timestamp set on success. ``send`` claims a pending row with a conditional
update (so concurrent or repeated tasks send it at most once), calls the peer, and records the
result; ``sweep`` hands back rows stuck in ``sending`` and re-enqueues rows left pending.
Receipts to ERIS and deliveries to surfaces use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from mmm_project.clients import PeerRejected, PeerUnavailable
from mmm_project.queueing import enqueue

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STUCK_SENDING = timedelta(minutes=5)  # longer than the task hard time limit (90 s)
SWEEP_BATCH = 500  # rows re-enqueued per sweep: one query, N publishes of a few ms


@dataclass(frozen=True)
class Outbox:
    model: type[models.Model]
    done_field: str  # the timestamp set when sent ("sent_at", "delivered_at")
    max_attempts: int  # transient failures before a row is marked failed for an operator
    task_name: str  # the task that sends one row, by id ("receipts.emit", "delivery.send")

    def enqueue(self, ids: Iterable[str], *, from_request: bool = True) -> bool:
        """Queue the send task for each row; False if the broker cannot take them (the sweep will).

        Requests never send inline (they would wait on the peer); a sweep, a background job, does
        in the embedded default, where it is the only sender.
        """
        return enqueue(self.task_name, ids, from_request=from_request, run_eagerly=not from_request)

    def enqueue_after_commit(self, ids: Iterable[str]) -> None:
        """``enqueue`` once the caller's transaction commits (the rows are visible to workers)."""
        ids = [str(item) for item in ids]
        if ids:
            transaction.on_commit(lambda: self.enqueue(ids))

    def _record(self, pk: object, **changes: Any) -> None:
        self.model.objects.filter(pk=pk).update(updated_at=timezone.now(), **changes)

    def send(self, pk: str, *, deliver: Callable[[Any], None], on_result: Callable[[Any, str], None]) -> str:
        """Claim, deliver and record one row; return its status afterwards (or ``"skipped"``).

        ``on_result(row, result)`` sees ``sent``, ``retry``, ``failed`` or ``rejected`` (metrics, logs).

        Raises:
            PeerUnavailable: after recording the attempt, so the task can retry with backoff.
        """
        claimed = self.model.objects.filter(pk=pk, status=PENDING).update(
            status=SENDING, updated_at=timezone.now()
        )
        if claimed != 1:
            return "skipped"
        row = self.model.objects.get(pk=pk)
        try:
            deliver(row)
        except PeerRejected as exc:
            self._record(pk, status=FAILED, attempts=F("attempts") + 1, last_error=str(exc)[:500])
            on_result(row, "rejected")
            return FAILED
        except PeerUnavailable as exc:
            status = FAILED if row.attempts + 1 >= self.max_attempts else PENDING
            self._record(pk, status=status, attempts=F("attempts") + 1, last_error=str(exc)[:500])
            on_result(row, "retry" if status == PENDING else "failed")
            raise
        self._record(
            pk, status=SENT, attempts=F("attempts") + 1, last_error="", **{self.done_field: timezone.now()}
        )
        on_result(row, "sent")
        return SENT

    def sweep(self, *, min_age: timedelta, now: datetime | None = None) -> int:
        """Re-enqueue rows pending for ``min_age`` (and rows stuck sending); return how many."""
        now = now or timezone.now()
        cutoff = now - min_age
        self.model.objects.filter(status=SENDING, updated_at__lt=now - STUCK_SENDING).update(
            status=PENDING, updated_at=cutoff - timedelta(seconds=1)
        )
        ids = [
            str(pk)
            for pk in self.model.objects.filter(status=PENDING, updated_at__lt=cutoff)
            .order_by("updated_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        ]
        if not ids or not self.enqueue(ids, from_request=False):
            return 0
        # Rows now queued wait for their task; the next sweep leaves them alone for a while.
        self.model.objects.filter(pk__in=ids, status=PENDING).update(updated_at=now)
        return len(ids)
