"""Signal ingestion (FR-1): persist envelopes idempotently, then decide on each in a worker.

``signals_ingest`` answers once the signals are in the database (the 202 of ``POST
/v1/mmm/signals`` and the webhooks); the ``ingest.decide`` task decides on each after commit;
``signals_sweep`` (beat) re-enqueues any left undecided, so nothing accepted is lost. A signal
that cannot be decided is marked ``failed`` with its reason; it never crashes the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from decisions.models import Decision, RejectedSignal, Signal, SignalStatus
from decisions.services import DecideInput, decide_stored_signal
from mmm_project import metrics
from mmm_project.errors import ApplicationError
from mmm_project.queueing import enqueue

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500  # signals re-enqueued per sweep
CONTEXT_KEYS = ("repo_id", "branch", "file_path", "environment", "team_id", "roles")


@dataclass(frozen=True)
class IngestResult:
    accepted: list[str]  # signal ids stored now
    duplicates: list[str]  # signal ids already stored (replays): not stored twice


def _enqueue_decisions(signal_pks: list[str], *, from_request: bool = True) -> bool:
    from tasks.ingest import decide_signal

    # Embedded default: decide right here (no worker); services mode: through the broker.
    return enqueue(decide_signal, signal_pks, from_request=from_request, run_eagerly=True)


def signals_ingest(*, tenant_id: str, envelopes: list[dict[str, Any]], channel: str) -> IngestResult:
    """Store validated envelopes (``SignalEnvelopeSerializer`` data) of ``tenant_id``.

    A ``signal_id`` already stored for the tenant is a duplicate: not stored, not decided again.
    Decisions are enqueued after commit.
    """
    accepted, duplicates, new_pks = [], [], []
    with transaction.atomic():
        for envelope in envelopes:
            context = {k: envelope["context"][k] for k in CONTEXT_KEYS if k in envelope.get("context", {})}
            signal, created = Signal.objects.get_or_create(
                tenant_id=tenant_id,
                signal_id=envelope["signal_id"],
                defaults={
                    "actor_id": envelope["actor_id"],
                    "actor_type": envelope["actor_type"],
                    "source": envelope["source"],
                    "event_type": envelope["event_type"],
                    "severity": envelope["severity"],
                    "ts": envelope["ts"],
                    "payload": envelope.get("payload", {}),
                    "context": context,
                },
            )
            (accepted if created else duplicates).append(envelope["signal_id"])
            if created:
                new_pks.append(str(signal.pk))
                metrics.SIGNALS_RECEIVED.labels(tenant_id, envelope["source"], envelope["event_type"]).inc()
        transaction.on_commit(lambda: _enqueue_decisions(new_pks))
    logger.info(
        "signals ingested",
        extra={
            "tenant_id": tenant_id,
            "channel": channel,
            "accepted": len(accepted),
            "duplicates": len(duplicates),
        },
    )
    return IngestResult(accepted=accepted, duplicates=duplicates)


def signal_reject(*, tenant_id: str, channel: str, reason: str, message: Any) -> RejectedSignal:
    """Record a message that could not become a signal: its reason and shape, not its content."""
    keys = sorted(message)[:50] if isinstance(message, dict) else []
    size = len(str(message).encode()) if message is not None else 0
    logger.warning(
        "signal rejected", extra={"tenant_id": tenant_id, "channel": channel, "reason": reason[:200]}
    )
    return RejectedSignal.objects.create(
        tenant_id=tenant_id or "",
        channel=channel[:100],
        reason=reason[:1000],
        message_keys=keys,
        message_bytes=size,
    )


def signal_decide(*, signal_pk: str) -> str:
    """Decide on one stored signal; return its status afterwards (``"skipped"`` if not waiting).

    Errors in the signal's own data mark it ``failed`` with the reason; unexpected errors
    (database down) propagate so the task is retried.
    """
    signal = Signal.objects.filter(pk=signal_pk, status=SignalStatus.RECEIVED).first()
    if signal is None:
        return "skipped"
    if Decision.objects.filter(signal=signal).exists():
        Signal.objects.filter(pk=signal.pk).update(status=SignalStatus.DECIDED)
        return SignalStatus.DECIDED
    data = DecideInput(
        tenant_id=signal.tenant_id,
        actor_id=signal.actor_id,
        actor_type=signal.actor_type,
        roles=tuple(signal.context.get("roles", [])),
        request_context={k: v for k, v in signal.context.items() if k != "roles"},
        signal={
            "signal_id": signal.signal_id,
            "source": signal.source,
            "event_type": signal.event_type,
            "severity": signal.severity,
            "payload": signal.payload,
        },
        signal_ts=signal.ts,
    )
    try:
        decide_stored_signal(data)
    except (ApplicationError, ValueError, KeyError) as exc:
        Signal.objects.filter(pk=signal.pk).update(status=SignalStatus.FAILED, last_error=str(exc)[:500])
        logger.error(
            "signal could not be decided", extra={"signal_pk": signal_pk, "error": type(exc).__name__}
        )
        return SignalStatus.FAILED
    return SignalStatus.DECIDED


def signal_give_up(*, signal_pk: str, error: Exception) -> str:
    """Mark a signal failed after its task ran out of retries (kept for operators, not lost)."""
    Signal.objects.filter(pk=signal_pk, status=SignalStatus.RECEIVED).update(
        status=SignalStatus.FAILED, last_error=f"{type(error).__name__} after retries"[:500]
    )
    logger.error(
        "signal given up after retries", extra={"signal_pk": signal_pk, "error": type(error).__name__}
    )
    return SignalStatus.FAILED


def signals_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Re-enqueue signals still undecided after ``INGEST_SWEEP_AGE_SECONDS``; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.INGEST_SWEEP_AGE_SECONDS)
    pks = [
        str(pk)
        for pk in Signal.objects.filter(status=SignalStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:batch_size]
    ]
    if pks and not _enqueue_decisions(pks, from_request=False):
        return 0
    return len(pks)
