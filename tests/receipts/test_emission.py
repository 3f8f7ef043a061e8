"""Receipt emission to ERIS through the real client against a local HTTP server (FR-12, NFR-6)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from mmm_project.celery import app as celery_app
from mmm_project.clients import PeerUnavailable
from mmm_project.clients import base as peer_clients
from receipts.models import Receipt
from receipts.services import admin_receipt_create, receipt_send, receipts_sweep
from receipts.signing import verify_document
from tasks.receipts import receipt_send_task
from tasks.retrying import GaveUpForNow
from tests.peers import FakeEris

pytestmark = pytest.mark.django_db


@pytest.fixture
def eris(httpserver, settings):
    fake = FakeEris()
    settings.ERIS_URL = fake.install(httpserver)
    return fake


@pytest.fixture
def eager_retries():
    """Let eager apply() run a task's retries in-process instead of raising Retry."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


def _receipt(**kwargs) -> Receipt:
    return admin_receipt_create(
        tenant_id="tenant-a",
        actor_id="lead-1",
        resource_type="playbook",
        resource_id="pb-1",
        operation="update",
        before={"status": "draft"},
        after={"status": "published"},
    )


def _status(receipt: Receipt) -> Receipt:
    receipt.refresh_from_db()
    return receipt


def test_receipt_is_pending_with_eris_configured_and_local_without(eris, settings):
    assert _receipt().status == "pending"
    settings.ERIS_URL = ""
    assert _receipt().status == "local"


def test_sent_with_idempotency_key_and_a_verifiable_body(eris):
    receipt = _receipt()
    assert receipt_send(receipt_id=str(receipt.receipt_id)) == "sent"
    receipt = _status(receipt)
    assert (receipt.status, receipt.attempts, receipt.last_error) == ("sent", 1, "")
    assert receipt.sent_at is not None
    assert eris.deliveries == [str(receipt.receipt_id)]
    assert verify_document(eris.stored[str(receipt.receipt_id)]).valid


def test_transient_failure_is_recorded_and_raised_for_retry(eris):
    eris.script = [503]
    receipt = _receipt()
    with pytest.raises(PeerUnavailable):
        receipt_send(receipt_id=str(receipt.receipt_id))
    receipt = _status(receipt)
    assert (receipt.status, receipt.attempts, receipt.last_error) == ("pending", 1, "eris answered HTTP 503")
    assert receipt_send(receipt_id=str(receipt.receipt_id)) == "sent"


def test_refusal_marks_failed_without_retry(eris):
    eris.script = [422]
    receipt = _receipt()
    assert receipt_send(receipt_id=str(receipt.receipt_id)) == "failed"
    assert _status(receipt).last_error == "eris refused the request: HTTP 422"


def test_conflict_on_the_idempotency_key_counts_as_delivered(eris):
    eris.script = [409]
    assert receipt_send(receipt_id=str(_receipt().receipt_id)) == "sent"


def test_transient_failures_never_give_up_and_back_off_up_to_the_cap(eris, settings):
    # given a receipt that already failed many times
    settings.OUTBOX_BACKOFF_BASE_SECONDS, settings.OUTBOX_BACKOFF_MAX_SECONDS = 30, 3600
    receipt = _receipt()
    Receipt.objects.filter(pk=receipt.pk).update(created_at=timezone.now() - timedelta(days=2))
    waits = []
    for attempts in (0, 1, 5, 40):
        Receipt.objects.filter(pk=receipt.pk).update(attempts=attempts, status="pending")
        eris.script = [503]
        # when ERIS fails once more
        before = timezone.now()
        with pytest.raises(PeerUnavailable):
            receipt_send(receipt_id=str(receipt.receipt_id))
        peer_clients.REGISTRY["eris"].reset()
        row = _status(receipt)
        # then it stays pending, its next attempt pushed back
        assert (row.status, row.attempts) == ("pending", attempts + 1)
        waits.append(round((row.next_attempt_at - before).total_seconds()))
    assert waits == [30, 60, 960, 3600]  # 30 s doubling per failure, capped at an hour
    # and the sweep leaves it alone until then, then sends it
    assert receipts_sweep() == 0
    Receipt.objects.filter(pk=receipt.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert receipts_sweep() == 1
    assert _status(receipt).status == "sent"


def test_sweep_keeps_the_backoff_a_failed_attempt_wrote(eris, eager_retries, settings):
    # given a receipt due after 6 failures, and ERIS still down for the task the sweep queues
    settings.OUTBOX_BACKOFF_BASE_SECONDS, settings.RECEIPT_SWEEP_AGE_SECONDS = 30, 60
    receipt = _receipt()
    Receipt.objects.filter(pk=receipt.pk).update(
        attempts=6,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now() - timedelta(days=1),  # waiting a day: the full backoff applies
    )
    eris.script = [503] * 4
    # when the sweep queues it and the task (here run at once) fails 4 more times
    before = timezone.now()
    assert receipts_sweep() == 1
    # then the next attempt waits the backoff of the 10th failure (capped at an hour), not
    # just the sweep age the sweep would have written over it
    row = _status(receipt)
    assert (row.status, row.attempts) == ("pending", 10)
    assert row.next_attempt_at - before >= timedelta(seconds=3600)


def test_after_a_short_outage_a_receipt_waits_no_longer_than_it_has_waited(eris, settings):
    """Operator finding: ERIS down five minutes left receipts an hour back (two task runs of four
    quick tries each: 8 attempts). The wait is bounded by the time the receipt has waited."""
    settings.OUTBOX_BACKOFF_BASE_SECONDS, settings.OUTBOX_BACKOFF_MAX_SECONDS = 30, 3600
    receipt = _receipt()
    Receipt.objects.filter(pk=receipt.pk).update(
        attempts=7, status="pending", created_at=timezone.now() - timedelta(minutes=5)
    )
    eris.script = [503]
    before = timezone.now()
    with pytest.raises(PeerUnavailable):
        receipt_send(receipt_id=str(receipt.receipt_id))
    row = _status(receipt)
    assert row.attempts == 8  # every try is counted
    wait = (row.next_attempt_at - before).total_seconds()
    assert 290 <= wait <= 310  # about the five minutes it has waited, not backoff(8) = an hour
    # and a receipt written a moment ago waits the base, however many quick tries it had
    fresh = _receipt()
    Receipt.objects.filter(pk=fresh.pk).update(attempts=3, status="pending")
    peer_clients.REGISTRY["eris"].reset()
    eris.script = [503]
    before = timezone.now()
    with pytest.raises(PeerUnavailable):
        receipt_send(receipt_id=str(fresh.receipt_id))
    assert round((_status(fresh).next_attempt_at - before).total_seconds()) == 30


def test_a_claimed_receipt_is_not_sent_twice(eris):
    receipt = _receipt()
    assert receipt_send(receipt_id=str(receipt.receipt_id)) == "sent"
    assert receipt_send(receipt_id=str(receipt.receipt_id)) == "skipped"
    assert len(eris.deliveries) == 1


def test_a_hanging_eris_costs_no_more_than_the_timeout(eris, settings):
    settings.ERIS_TIMEOUT_SECONDS = 0.2
    eris.delay = 1.0
    receipt = _receipt()
    started = time.monotonic()
    with pytest.raises(PeerUnavailable, match="ReadTimeout"):
        receipt_send(receipt_id=str(receipt.receipt_id))
    assert time.monotonic() - started < 0.8


def test_breaker_opens_after_5_failures_and_stops_calling_eris(eris):
    eris.script = [503] * 10
    receipts = [_receipt() for _ in range(7)]
    for receipt in receipts:
        with pytest.raises(PeerUnavailable):
            receipt_send(receipt_id=str(receipt.receipt_id))
    assert len(eris.deliveries) == 5  # the 6th and 7th never reached ERIS
    assert _status(receipts[-1]).last_error == "eris circuit breaker is open"


def test_celery_task_retries_until_eris_recovers(eris, eager_retries):
    eris.script = [503, 503, "store_then_503"]
    receipt = _receipt()
    # apply(throw=False) runs the retries in-process (the real worker waits 0.5, 1 and 2 s)
    assert receipt_send_task.apply(args=[str(receipt.receipt_id)], throw=False).get() == "sent"
    assert _status(receipt).attempts == 4
    assert eris.delivery_counts()[str(receipt.receipt_id)] == 4
    assert list(eris.stored) == [str(receipt.receipt_id)]  # stored once despite the lost answer


def test_retries_wait_half_a_second_then_one_then_two(eris):
    receipt = _receipt()
    waits = []
    for retries in range(3):
        eris.script = [503]
        Receipt.objects.filter(pk=receipt.pk).update(status="pending")
        with pytest.raises(Retry) as info:
            receipt_send_task.apply(args=[str(receipt.receipt_id)], retries=retries, throw=True).get()
        waits.append(info.value.when)
    assert waits == [0.5, 1.0, 2.0]


def test_after_the_last_retry_the_task_fails_and_the_receipt_waits_for_the_sweep(eris, eager_retries, caplog):
    # given ERIS answering 503 to the first call and to each of the three retries
    eris.script = [503] * 4
    receipt = _receipt()
    # when the task has used its retries
    result = receipt_send_task.apply(args=[str(receipt.receipt_id)], throw=False)
    # then it is recorded as failed (what Flower and the task events show) ...
    assert result.status == "FAILURE"
    assert isinstance(result.result, GaveUpForNow)
    assert "left pending for the sweep" in str(result.result)
    # ... an expected failure: logged at INFO without a traceback, not one ERROR per receipt
    logged = [r for r in caplog.records if r.name == "celery.app.trace" and "GaveUpForNow" in r.getMessage()]
    assert logged and all(r.levelno == logging.INFO and not r.exc_info for r in logged)
    # ... while the receipt stays pending for the sweep, which then sends it
    assert (_status(receipt).status, receipt.attempts) == ("pending", 4)
    Receipt.objects.filter(pk=receipt.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert receipts_sweep() == 1
    assert _status(receipt).status == "sent"


def test_sweep_sends_old_pending_and_stuck_sending_receipts(eris):
    old, fresh, stuck = _receipt(), _receipt(), _receipt()
    long_ago = timezone.now() - timedelta(minutes=10)
    Receipt.objects.filter(pk=old.pk).update(next_attempt_at=long_ago)
    Receipt.objects.filter(pk=stuck.pk).update(status="sending", updated_at=long_ago)
    assert receipts_sweep() == 2
    assert [_status(r).status for r in (old, fresh, stuck)] == ["sent", "pending", "sent"]


def test_sweep_stops_while_eris_is_down(eris):
    eris.script = [503] * 3
    receipts = [_receipt() for _ in range(3)]
    Receipt.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    receipts_sweep()
    assert len(eris.deliveries) == 1  # the first failure ends this sweep
    assert {_status(r).status for r in receipts} == {"pending"}
