"""The outbox and ingest-sweep indexes are partial (issue 13): they hold only rows still to handle,
and the sweeps' queries, which name those statuses, are still answered from them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from decisions.delivery.models import Delivery, DeliveryStatus
from decisions.models import Signal, SignalStatus
from receipts.models import Receipt, ReceiptStatus

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's"),
]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a near-empty table is read whole otherwise
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _indexed(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize(
    ("model", "status", "prefix"),
    [(Receipt, ReceiptStatus, "mmm_receipt"), (Delivery, DeliveryStatus, "mmm_delivery")],
)
def test_the_outbox_sweeps_read_the_partial_indexes(model, status, prefix):
    now = timezone.now()
    pending = model.objects.filter(status=status.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at"
    )
    stuck = model.objects.filter(status=status.SENDING, updated_at__lt=now - timedelta(minutes=5))
    backlog = model.objects.filter(status__in=("pending", "sending", "failed"))  # its counts
    for queryset in (pending.values("pk"), stuck.values("pk"), backlog.values("status")):
        # either partial index answers (on a near-empty table the planner picks either)
        plan = _plan(queryset)
        assert f"Scan using {prefix}_status_" in plan or f"Index Scan on {prefix}_status_" in plan
    indexes = _indexed(model._meta.db_table)
    for name in (f"{prefix}_status_next", f"{prefix}_status_updated"):
        assert "WHERE" in indexes[name] and "'pending'" in indexes[name] and "'local'" not in indexes[name]


def test_the_ingest_sweep_reads_the_partial_index_of_undecided_signals():
    cutoff = timezone.now() - timedelta(minutes=1)
    waiting = Signal.objects.filter(status=SignalStatus.RECEIVED, received_at__lt=cutoff).order_by(
        "received_at"
    )
    assert "mmm_signal_status_received" in _plan(waiting.values("pk"))
    definition = _indexed("mmm_signals")["mmm_signal_status_received"]
    assert "'received'" in definition and "'deciding'" in definition and "'decided'" not in definition
