"""RF-MMM-02: ERIS unavailable, and the broker unavailable, with a real worker on RabbitMQ.

ERIS is a real local HTTP server (tests.peers.FakeEris) storing each receipt once per
idempotency key. Decides go through the HTTP API in a real transaction; their receipts leave
through RabbitMQ to an in-thread Celery worker, exactly as in services mode.
"""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from receipts.models import Receipt
from receipts.services import receipts_sweep
from receipts.signing import verify_document
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.integration.conftest import broker_unreachable
from tests.integration.helpers import service_urls
from tests.peers import FakeEris

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(service_urls() is None, reason="CELERY_BROKER_URL etc. not set (.ci/run sets them)"),
    pytest.mark.django_db(transaction=True),
]

# Seconds ERIS takes to answer, failures included: far above a decide, even on a loaded machine.
ERIS_DELAY = 1.5


def _decide(client, index: int) -> float:
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": f"rf-{index}", "source": "github", "event_type": "ci.check_run.failed"},
    }
    started = time.perf_counter()
    response = client.post("/v1/mmm/decide", body, format="json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content
    assert len(response.json()["decision"]["actions"]) == 1
    return elapsed


def _wait_until_all_sent(timeout: float = 90.0) -> list[Receipt]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        receipts = list(Receipt.objects.all())
        if receipts and all(r.status == "sent" for r in receipts):
            return receipts
        time.sleep(0.2)
    states = list(Receipt.objects.values_list("status", "attempts", "last_error"))
    raise AssertionError(f"receipts not all sent: {states}")


def _assert_each_stored_once(eris: FakeEris, receipts: list[Receipt]) -> None:
    # ERIS also gets the receipt log's signed tree heads (receipts.ledger), signed like receipts
    stored = {key: doc for key, doc in eris.stored.items() if doc.get("kind") != "tree_head"}
    assert set(stored) == {str(r.receipt_id) for r in receipts}
    for document in eris.stored.values():
        assert verify_document(document).valid


def _receipt_deliveries(eris: FakeEris, receipts: list[Receipt]) -> list[str]:
    """ERIS deliveries of receipts (not of the receipt log's tree heads)."""
    ids = {str(r.receipt_id) for r in receipts}
    return [key for key in eris.deliveries if key in ids]


@pytest.fixture
def setup(httpserver, settings, client_for):
    eris = FakeEris()
    settings.ERIS_URL = eris.install(httpserver)
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    return eris, client_for()


def test_rf_mmm_02_eris_failing_then_recovering(setup, worker_app, through_the_broker):
    eris, client = setup
    eris.delay = ERIS_DELAY
    # four failures in a row (one of them stored but its answer lost), under the breaker's 5
    eris.script = [503, 503, "store_then_503", 503]
    with start_worker(
        worker_app, pool="solo", queues=["default", "receipts"], perform_ping_check=False, shutdown_timeout=30
    ):
        publish_playbook(mirror_playbook())  # two admin receipts
        latencies = [_decide(client, i) for i in range(5)]  # five decision receipts
        receipts = _wait_until_all_sent()
    # decide never waited on ERIS, which takes 1.5 s per answer
    assert max(latencies) < ERIS_DELAY, latencies
    assert len(receipts) == 7
    _assert_each_stored_once(eris, receipts)
    assert len(eris.deliveries) >= 7 + 4  # the retries happened (to receipts or tree heads)
    assert sum(r.attempts for r in receipts) == len(_receipt_deliveries(eris, receipts))


def test_rf_mmm_02_broker_down_then_back(setup, worker_app, through_the_broker):
    eris, client = setup
    # while the broker is unreachable, decides still answer and their receipts wait in the outbox
    with broker_unreachable(through_the_broker):
        publish_playbook(mirror_playbook())
        latencies = [_decide(client, i) for i in range(3)]
    assert Receipt.objects.filter(status="pending").count() == 5
    # one refused connection, then the breaker skips publishing: far below a 2 s connect timeout
    assert max(latencies) < 1.5, latencies
    assert eris.deliveries == []
    # once it is back, the sweep hands them to the worker, which sends them
    with start_worker(
        worker_app, pool="solo", queues=["default", "receipts"], perform_ping_check=False, shutdown_timeout=30
    ):
        assert receipts_sweep(due_only=False) == 5
        receipts = _wait_until_all_sent()
    _assert_each_stored_once(eris, receipts)
    assert len(_receipt_deliveries(eris, receipts)) == 5
