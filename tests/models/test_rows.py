"""``mmm_project.database.rows``: instances read back from ``RETURNING`` rows equal what the ORM
reads (JSON parsed, dates, UUIDs and booleans converted on PostgreSQL and SQLite alike), and the
worker's claim of a stored signal is one statement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.intake.services import signal_claim
from decisions.models import Signal, SignalStatus
from mmm_project.database.rows import concrete_columns, model_from_row

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _signal(**fields) -> Signal:
    return Signal.objects.create(
        tenant_id="tenant-a",
        signal_id=fields.pop("signal_id", "s-1"),
        actor_id="dev-1",
        source="github",
        event_type="ci.check_run.failed",
        severity="high",
        ts=T0,
        payload={"check": {"name": "unit", "attempts": 2, "flaky": True}},
        context={"repo_id": "org/app", "roles": ["developer"]},
        **fields,
    )


def _fields(instance: Signal) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in Signal._meta.concrete_fields}


def test_an_instance_from_a_returning_row_equals_the_orm_s():
    stored = _signal()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {concrete_columns(Signal, quote)} FROM {quote(Signal._meta.db_table)} WHERE id = %s",
            [Signal._meta.pk.get_db_prep_value(stored.pk, connection)],
        )
        row = cursor.fetchone()
    read = model_from_row(Signal, connection, row)
    assert _fields(read) == _fields(Signal.objects.get(pk=stored.pk))
    assert isinstance(read.payload, dict) and read.ts == T0
    assert read._state.adding is False and read._state.db == connection.alias
    with pytest.raises(ValueError, match="columns"):
        model_from_row(Signal, connection, row[:-1])


def test_a_claim_is_one_statement_and_only_of_a_waiting_signal():
    waiting, decided = _signal(signal_id="s-1"), _signal(signal_id="s-2", status=SignalStatus.DECIDED)
    with CaptureQueriesContext(connection) as queries:
        claimed = signal_claim(signal_pk=str(waiting.pk), now=T0)
    assert len(queries) == 1
    assert claimed.pk == waiting.pk and claimed.status == SignalStatus.DECIDING
    assert claimed.claimed_at == T0 and claimed.context["roles"] == ["developer"]
    assert Signal.objects.get(pk=waiting.pk).status == SignalStatus.DECIDING
    # decided already, or claimed by another worker: nothing to claim
    assert signal_claim(signal_pk=str(decided.pk), now=T0) is None
    assert signal_claim(signal_pk=str(waiting.pk), now=T0) is None
