"""``rows_insert``: the decide path's one-statement write (mmm_project.database.bulk_insert) stores every
column as the ORM would, all rows or none, on PostgreSQL (one statement) and SQLite (bulk_create)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from decisions.delivery.models import Delivery
from decisions.models import Action, Decision, Signal
from mmm_project.database.bulk_insert import rows_insert
from receipts.models import Receipt

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 22, 1, 30, 35, 691058, tzinfo=UTC)


def _rows():
    signal = Signal(
        tenant_id="t1",
        signal_id="s-1",
        actor_id="dev-1",
        source="github",
        event_type="ci.check_run.failed",
        severity="high",
        ts=WHEN,
        payload={"github_event": "check_run", "nested": {"n": [1, 2.5, None, "é"]}},
        context={"repo_id": "org/a"},
        status="decided",
    )
    decision = Decision(
        tenant_id="t1",
        actor_id="dev-1",
        signal_id=signal.pk,
        context={"a": {"b": [True, False]}},
        suppressed_actions=[{"reason": "fatigue.cooldown", "count": 3}],
        latency_ms=12.345,
        degraded_mode=True,
        created_at=WHEN,
    )
    action = Action(
        tenant_id="t1",
        decision=decision,
        type="mirror",
        surfaces=["ide", "ci"],
        payload={"title": 'It\'s 3 "quoted" \\ back'},
        priority=0.75,
        position=1,
        created_at=WHEN,
    )
    delivery = Delivery(
        tenant_id="t1", action=action, surface="ide", status="recorded", created_at=WHEN, updated_at=WHEN
    )
    receipt = Receipt(
        tenant_id="t1",
        kind="decision",
        decision_id=decision.pk,
        payload={"kind": "decision", "risk_score": 0.45},
        signature="sig",
        kid="kid-1",
        leaf_hash=bytes(range(32)),
        status="local",
        created_at=WHEN,
        updated_at=WHEN,
        next_attempt_at=WHEN,
    )
    return [
        (Signal, [signal]),
        (Decision, [decision]),
        (Action, [action]),
        (Delivery, [delivery]),
        (Receipt, [receipt]),
    ]


def _columns(instance: models.Model) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_every_column_reads_back_as_written_and_instances_are_marked_saved():
    batches = _rows()
    with CaptureQueriesContext(connection) as queries:
        rows_insert(batches)
    expected_statements = 1 if connection.vendor == "postgresql" else 5
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == expected_statements
    for model, rows in batches:
        for row in rows:
            assert row._state.adding is False
            stored = model.objects.get(pk=row.pk)
            assert _columns(stored) == _columns(row), model.__name__
    assert bytes(Receipt.objects.get().leaf_hash) == bytes(range(32))


def test_a_failing_row_writes_nothing():
    rows_insert(_rows()[:1])  # the signal s-1 exists
    again = _rows()  # a second s-1 (unique per tenant), with a new decision, action and receipt
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(again)
    assert Signal.objects.count() == 1
    assert not Decision.objects.exists() and not Action.objects.exists() and not Receipt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_broken_foreign_key_writes_nothing():
    # outside any transaction, as a decide writes: the foreign keys (deferred) are checked at the
    # statement's own commit
    batches = _rows()
    batches[2][1][0].decision_id = uuid.uuid4()  # the action's decision is not written
    with pytest.raises(IntegrityError):
        rows_insert(batches)
    assert not Signal.objects.exists() and not Decision.objects.exists()


def test_a_value_json_cannot_carry_is_refused_before_anything_is_sent():
    batches = _rows()
    batches[1][1][0].context = {"when": object()}
    with pytest.raises(TypeError), CaptureQueriesContext(connection) as queries:
        rows_insert(batches)
    if connection.vendor == "postgresql":  # refused before the one statement is sent
        assert not [q for q in queries if "INSERT" in q["sql"]]
    assert not Signal.objects.exists() and not Decision.objects.exists()  # SQLite: rolled back


def test_nothing_to_write_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        rows_insert([(Signal, []), (Decision, [])])
    assert not queries.captured_queries


def test_an_update_goes_with_the_inserts():
    # given a stored signal being decided
    batches = _rows()
    rows_insert(batches[:1])
    signal = Signal.objects.get()
    Signal.objects.filter(pk=signal.pk).update(status="deciding", last_error="was busy")
    # when its decision is written together with its new status
    with CaptureQueriesContext(connection) as queries:
        rows_insert(batches[1:], update=(Signal, signal.pk, {"status": "decided", "last_error": ""}))
    # then one statement on PostgreSQL did both
    sent = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(sent) == (1 if connection.vendor == "postgresql" else 5)
    assert Signal.objects.values_list("status", "last_error").get() == ("decided", "")
    assert Decision.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_insert_leaves_the_update_undone():
    batches = _rows()
    rows_insert(batches[:1])
    signal = Signal.objects.get()
    Signal.objects.filter(pk=signal.pk).update(status="deciding")
    batches = batches[1:]
    batches[1][1][0].decision_id = uuid.uuid4()  # the action's decision is not written
    with pytest.raises(IntegrityError):
        rows_insert(batches, update=(Signal, signal.pk, {"status": "decided", "last_error": ""}))
    assert Signal.objects.get().status == "deciding"
    assert not Decision.objects.exists()


def test_values_taken_as_is_are_those_the_field_methods_give():
    # Every value of the decide's rows, and values of another type than the field's (an enum
    # member, a UUID as text, a whole number in a float column, a boolean in an integer column,
    # a naive string date), come out as the fields' own pre_save and get_prep_value make them.
    from mmm_project.database.bulk_insert import _plan, _row, _value

    batches = _rows()
    action = batches[2][1][0]
    action.type = models.TextChoices("Kind", "MIRROR")("MIRROR")  # a str subclass
    action.priority = 1  # an int for a float column
    action.position = True  # a bool for an integer column
    action.decision_id = str(action.decision_id)  # a UUID as text
    for model, rows in batches:
        plan = _plan(model)
        assert any(types for _, _, types, _ in plan), model.__name__  # the fast path is used
        for row in rows:
            expected = {field.column: _value(field, row) for field in model._meta.concrete_fields}
            got = _row(plan, row)
            assert got == expected, model.__name__
            assert [type(v) for v in got.values()] == [type(v) for v in expected.values()], model.__name__
