"""Signal ingestion (FR-1): persist envelopes idempotently; a worker decides on each afterwards.

``signals_ingest`` answers once the signals are in the database (the 202 of ``POST
/v1/mmm/signals``, the webhooks and the broker consumer) and enqueues the ``ingest.decide`` task
(``decisions.services.decide.signal_decide``) for each after commit; ``signals_sweep`` (beat)
re-enqueues any left undecided, so nothing accepted is lost. ``signal_get_or_create`` is the one
place a ``Signal`` row is written for ingestion; ``signal_fields`` is what any new row holds (the
decision flow inserts the signal of ``POST /v1/mmm/decide`` with its decision).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from decisions.intake.minimise import payload_minimise
from decisions.intake.models import RejectedSignal, Signal, SignalStatus
from mmm_project import metrics
from mmm_project.background.queueing import enqueue
from mmm_project.database.prepared import prepared_cursor
from mmm_project.database.rows import concrete_columns, model_from_row
from mmm_project.privacy.secret_scan import redact_secrets
from mmm_project.residency import tenant_atomic, tenant_connection, tenant_on_commit

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500  # signals re-enqueued per sweep
# What of a producer's context is stored with the signal (NFR-3 data minimisation).
CONTEXT_KEYS = ("repo_id", "branch", "file_path", "environment", "team_id", "roles")


@dataclass(frozen=True)
class IngestResult:
    accepted: list[str]  # signal ids stored now
    duplicates: list[str]  # signal ids already stored (replays): not stored twice


def signal_fields(*, envelope: dict[str, Any], status: str) -> dict[str, Any]:
    """The stored fields of a new ``Signal`` row for a validated envelope (``SignalEnvelopeSerializer``
    data, FR-1): only allow-listed payload fields and context keys, credentials redacted (NFR-3)."""
    context = envelope.get("context") or {}
    return {
        "actor_id": envelope["actor_id"],
        "actor_type": envelope["actor_type"],
        "source": envelope["source"],
        "event_type": envelope["event_type"],
        "severity": envelope["severity"],
        "ts": envelope["ts"],
        "payload": payload_minimise(envelope.get("payload"), source=envelope["source"]),
        "context": redact_secrets(
            {key: context[key] for key in CONTEXT_KEYS if key in context}, where="signal"
        ),
        "status": status,
    }


def signal_get_or_create(
    *, tenant_id: str, envelope: dict[str, Any], status: str = SignalStatus.RECEIVED
) -> tuple[Signal, bool]:
    """Store one validated envelope (``SignalEnvelopeSerializer`` data, FR-1) unless its
    ``(tenant_id, signal_id)`` is already stored; return the row and whether it is new.

    Runs in the caller's transaction; ``status`` is the new row's.
    """
    return Signal.objects.get_or_create(
        tenant_id=tenant_id,
        signal_id=envelope["signal_id"],
        defaults=signal_fields(envelope=envelope, status=status),
    )


def signal_claim(*, signal_pk: str, now: datetime) -> Signal | None:
    """Claim a stored signal for deciding (``received -> deciding``) and return it, in one
    ``UPDATE ... RETURNING`` (prepared, as the decide's statements); None when it is not waiting
    (decided, failed, or another worker's)."""
    connection = tenant_connection()  # the tenant's region (NFR-3)
    ops = connection.ops
    table, quote = Signal._meta.db_table, ops.quote_name
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET status = %s, claimed_at = %s "  # noqa: S608 - model identifiers
            f"WHERE id = %s AND status = %s RETURNING {concrete_columns(Signal, quote)}",
            [
                SignalStatus.DECIDING,
                ops.adapt_datetimefield_value(now),
                Signal._meta.pk.get_db_prep_value(signal_pk, connection),
                SignalStatus.RECEIVED,
            ],
        )
        row = cursor.fetchone()
    return model_from_row(Signal, connection, row) if row is not None else None


# Signals a worker decides per task (``ingest.decide_batch``): one message, one acknowledgement and
# one set of task events for them all, while a batch of 50 still spreads over the worker processes.
DECIDE_BATCH = 10


def _enqueue_decisions(signal_pks: list[str], *, from_request: bool = True) -> bool:
    # Embedded default: decide right here (no worker); services mode: through the broker.
    return enqueue(
        "ingest.decide_batch", signal_pks, from_request=from_request, run_eagerly=True, batch=DECIDE_BATCH
    )


def signals_ingest(*, tenant_id: str, envelopes: list[dict[str, Any]], channel: str) -> IngestResult:
    """Store validated envelopes (``SignalEnvelopeSerializer`` data) of ``tenant_id``.

    A ``signal_id`` already stored for the tenant is a duplicate: not stored, not decided again.
    Decisions are enqueued after commit.
    """
    accepted, duplicates, new_pks = [], [], []
    with tenant_atomic():
        for envelope in envelopes:
            signal, created = signal_get_or_create(tenant_id=tenant_id, envelope=envelope)
            (accepted if created else duplicates).append(envelope["signal_id"])
            if created:
                new_pks.append(str(signal.pk))
                metrics.SIGNALS_RECEIVED.labels(
                    tenant_id,
                    metrics.source_label(envelope["source"]),
                    metrics.event_type_label(envelope["event_type"]),
                ).inc()
        tenant_on_commit(lambda: _enqueue_decisions(new_pks))
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


def signal_fail(*, signal_pk: str, reason: str, claimed: bool = False) -> str:
    """Mark a waiting (or, with ``claimed``, a claimed) signal ``failed`` with its reason: kept for
    operators, never retried. For permanent failures only: invalid data, an unknown tenant, a bug
    that outlived its retries."""
    waiting = SignalStatus.DECIDING if claimed else SignalStatus.RECEIVED
    Signal.objects.filter(pk=signal_pk, status=waiting).update(
        status=SignalStatus.FAILED, last_error=reason[:500], claimed_at=None
    )
    logger.error("signal could not be decided", extra={"signal_pk": signal_pk, "error": reason[:200]})
    return SignalStatus.FAILED


def signal_release(*, signal_pk: str) -> None:
    """Hand a claimed signal back (``deciding -> received``) for a retry or the sweep."""
    Signal.objects.filter(pk=signal_pk, status=SignalStatus.DECIDING).update(
        status=SignalStatus.RECEIVED, claimed_at=None
    )


def signals_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Re-enqueue signals still undecided after ``INGEST_SWEEP_AGE_SECONDS``; return how many.

    Claims older than ``INGEST_CLAIM_TIMEOUT_SECONDS`` (a worker died mid-decision) are released
    first, so their signals are re-enqueued too.
    """
    now = now or timezone.now()
    Signal.objects.filter(
        status=SignalStatus.DECIDING,
        claimed_at__lt=now - timedelta(seconds=settings.INGEST_CLAIM_TIMEOUT_SECONDS),
    ).update(status=SignalStatus.RECEIVED, claimed_at=None)
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
