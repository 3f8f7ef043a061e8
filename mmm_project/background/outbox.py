"""The outbox pattern, once: rows written with the business change, sent by tasks, swept by beat.

A row model has ``status`` (pending, sending, sent, failed), ``attempts``, ``last_error``,
``next_attempt_at``, ``created_at``, ``updated_at`` and a timestamp set on success. ``send`` claims
a pending row with a conditional update (so concurrent or repeated tasks send it at most once),
calls the peer, and records the result; ``sweep`` hands back rows stuck in ``sending`` and
re-enqueues pending rows whose next attempt is due. Receipts to ERIS and deliveries to surfaces use
it.

A row is never given up on for a transient failure (NFR-6, RF-MMM-02): each one pushes its next
attempt back exponentially (``OUTBOX_BACKOFF_BASE_SECONDS`` doubling per attempt, capped at
``OUTBOX_BACKOFF_MAX_SECONDS``, an hour by default), but never by more than the row has waited
since it was written: a task's quick retries (0.5, 1, 2 s) count as attempts, so a peer down five
minutes would otherwise push a receipt an hour back; bounded so, it is sent at most about as long
after the peer is back as the peer was down. A peer down for hours gets its backlog within the
hour, well inside the retention window. Only a permanent refusal (``PeerRejected``: a 4xx) marks a
row ``failed`` for an operator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone

from mmm_project.background.after_response import after_commit_and_response
from mmm_project.background.queueing import enqueue
from mmm_project.clients import PeerRejected, PeerUnavailable

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STUCK_SENDING = timedelta(minutes=5)  # longer than the task hard time limit (90 s)
SWEEP_BATCH = 500  # rows re-enqueued per sweep: one query, N publishes of a few ms


def backoff(attempts: int, *, waited: timedelta | None = None) -> timedelta:
    """Wait before the next attempt after ``attempts`` failures: base * 2^(attempts-1), capped at
    ``OUTBOX_BACKOFF_MAX_SECONDS``, and, given how long the row has ``waited`` already, at most that
    (at least the base)."""
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS
    seconds = min(settings.OUTBOX_BACKOFF_MAX_SECONDS, base * 2 ** min(max(attempts - 1, 0), 30))
    if waited is not None:
        seconds = min(seconds, max(waited.total_seconds(), base))
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Outbox:
    model: type[models.Model]
    done_field: str  # the timestamp set when sent ("sent_at", "delivered_at")
    sweep_age_setting: str  # seconds a new row waits for its task before the sweep sends it
    task_name: str  # the task that sends one row, by id ("receipts.emit", "delivery.send")

    def first_attempt_due(self, now: datetime) -> datetime:
        """``next_attempt_at`` of a new row: its task sends it at once; the sweep only if it did not."""
        return now + timedelta(seconds=getattr(settings, self.sweep_age_setting))

    def enqueue(self, ids: Iterable[str], *, from_request: bool = True) -> bool:
        """Queue the send task for each row; False if the broker cannot take them (the sweep will).

        Requests never send inline (they would wait on the peer); a sweep, a background job, does
        in the embedded default, where it is the only sender.
        """
        return enqueue(self.task_name, ids, from_request=from_request, run_eagerly=not from_request)

    def enqueue_after_commit(self, ids: Iterable[str]) -> None:
        """``enqueue`` once the caller's transaction commits (the rows are visible to workers) and,
        in a request, its response is sent."""
        ids = [str(item) for item in ids]
        if ids:
            after_commit_and_response(lambda: self.enqueue(ids))

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
            now = timezone.now()
            self._record(
                pk,
                status=PENDING,
                attempts=F("attempts") + 1,
                last_error=str(exc)[:500],
                next_attempt_at=now + backoff(row.attempts + 1, waited=now - row.created_at),
            )
            on_result(row, "retry")
            raise
        self._record(
            pk, status=SENT, attempts=F("attempts") + 1, last_error="", **{self.done_field: timezone.now()}
        )
        on_result(row, "sent")
        return SENT

    def sweep(self, *, min_age: timedelta, now: datetime | None = None, due_only: bool = True) -> int:
        """Re-enqueue pending rows whose next attempt is due (every pending row with
        ``due_only=False``) and rows stuck sending; return how many. A queued row's next attempt
        moves ``min_age`` on, so it is queued once per sweep age."""
        now = now or timezone.now()
        self.model.objects.filter(status=SENDING, updated_at__lt=now - STUCK_SENDING).update(
            status=PENDING, updated_at=now, next_attempt_at=now
        )
        ids = [
            str(pk)
            for pk in self.model.objects.filter(status=PENDING)
            .filter(**({"next_attempt_at__lte": now} if due_only else {}))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        ]
        if not ids or not self.enqueue(ids, from_request=False):
            return 0
        # Only rows still due: a worker may already have tried one of them and failed (it is
        # faster than this loop), and the backoff it wrote into next_attempt_at must stand.
        self.model.objects.filter(pk__in=ids, status=PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=now + min_age
        )
        return len(ids)
