"""Nothing accepted is lost (FR-1, NFR-6): transient failures leave a stored signal waiting for a
retry or the sweep, permanent ones mark it failed, and a worker's claim means it is decided once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone
from werkzeug import Response

from decisions.intake.services import signals_sweep
from decisions.models import Decision, Signal
from decisions.services.decide import SignalDeferred, signal_decide
from mmm_project.clients.base import REGISTRY as peer_clients
from tasks.ingest import RETRY_COUNTDOWNS, signal_decide_task, signals_decide_task
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit
from tests.ingest.test_signals_api import envelope

pytestmark = pytest.mark.django_db

SNAPSHOT = {"allowed": True, "policy_snapshot_id": "snap-1", "policy_version_ids": ["v1"], "restrictions": []}


@pytest.fixture
def tenant():
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook({"name": "focus", "triggers": [{"event_type": "ubi.*"}], "actions": [MIRROR]})


class Policy:
    """The Policy service, up or answering 503."""

    def __init__(self, httpserver, settings) -> None:
        settings.POLICY_URL = httpserver.url_for("/").rstrip("/")
        self.up = False
        self.calls = 0
        httpserver.expect_request("/v1/policy/tenants/tenant-a/evaluate").respond_with_handler(self.handle)

    def handle(self, request):
        self.calls += 1
        if not self.up:
            return Response(status=503)
        return Response(json.dumps(SNAPSHOT), content_type="application/json")


@pytest.fixture
def policy(httpserver, settings):
    return Policy(httpserver, settings)


def _stored(signal_id: str) -> Signal:
    """A signal intake stored and no worker has decided yet."""
    return Signal.objects.create(
        tenant_id="tenant-a",
        signal_id=signal_id,
        actor_id="dev-1",
        source="ubi",
        event_type="ubi.x",
        ts=timezone.now(),
    )


def _store(client_for, signal_id="s-1"):
    producer = client_for(actor_id="ubi-service", actor_type="ai_agent", scopes=["mmm.decide"])
    response = after_commit(
        producer.post,
        "/v1/mmm/signals",
        data=json.dumps(envelope(signal_id=signal_id)),
        content_type="application/json",
    )
    assert response.status_code == 202
    return Signal.objects.get(signal_id=signal_id)


def test_a_policy_outage_leaves_accepted_signals_waiting_then_they_are_decided(tenant, policy, client_for):
    # given the Policy service down when a signal is accepted (no snapshot ever: POLICY_UNAVAILABLE)
    signal = _store(client_for)
    # then the signal is still waiting, never failed
    signal.refresh_from_db()
    assert (signal.status, signal.claimed_at) == ("received", None)
    assert policy.calls >= 1
    # when Policy is back and the sweep runs
    policy.up = True
    peer_clients["policy"].reset()
    Signal.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    assert signals_sweep() == 1
    # then it is decided, once
    signal.refresh_from_db()
    assert signal.status == "decided"
    assert Decision.objects.filter(signal=signal).count() == 1


def test_a_transient_failure_releases_the_claim_and_is_retried_by_the_task(tenant, policy, settings, caplog):
    signal = _stored("s-9")
    with pytest.raises(SignalDeferred) as deferred:
        signal_decide(signal_pk=str(signal.pk))
    assert deferred.value.reason == "policy_unavailable"
    # its log line names the tenant (FR-15), as every decision's does
    (line,) = [r for r in caplog.records if r.getMessage() == "signal decision deferred"]
    assert (line.tenant_id, line.error) == (signal.tenant_id, "policy_unavailable")
    signal.refresh_from_db()
    assert (signal.status, signal.last_error) == ("received", "")
    # the task's last retry, still failing, leaves the signal for the sweep
    last = signal_decide_task.apply(args=[str(signal.pk)], retries=len(RETRY_COUNTDOWNS))
    assert last.get() == "received"
    signal.refresh_from_db()
    assert signal.status == "received"


def test_the_cache_down_when_a_worker_reads_it_releases_the_claim(tenant, policy, monkeypatch):
    # given a stored signal, Policy up, and the shared cache refusing connections when a worker
    # decides (its read ahead and the read again both fail)
    import redis.exceptions
    from django.core.cache import cache

    from mmm_project.caching import prefetch

    def refused(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    policy.up = True
    monkeypatch.setattr(prefetch, "_send", lambda keys: None)
    monkeypatch.setattr(cache, "get_many", refused)
    signal = _stored("s-cache")
    # when a worker decides it, then the decision is deferred naming the cache
    with pytest.raises(SignalDeferred) as deferred:
        signal_decide(signal_pk=str(signal.pk))
    assert deferred.value.reason == "cache"
    # and the signal waits for its retry, unclaimed, with nothing written
    signal.refresh_from_db()
    assert (signal.status, signal.claimed_at) == ("received", None)
    assert not Decision.objects.exists()


def test_a_claimed_or_decided_signal_is_never_decided_twice(tenant, policy):
    policy.up = True
    signal = _stored("s-2")
    # a worker holds the claim: a redelivered task skips it
    Signal.objects.filter(pk=signal.pk).update(status="deciding", claimed_at=timezone.now())
    assert signal_decide(signal_pk=str(signal.pk)) == "skipped"
    # the worker died: the sweep releases a claim older than the task time limit, once
    Signal.objects.update(
        claimed_at=timezone.now() - timedelta(hours=1), received_at=timezone.now() - timedelta(hours=1)
    )
    assert signals_sweep() == 1
    signal.refresh_from_db()
    assert signal.status == "decided"
    # redelivered after the commit (worker killed before its ack): skipped, no second decision
    assert signal_decide(signal_pk=str(signal.pk)) == "skipped"
    assert Decision.objects.filter(signal=signal).count() == 1


def test_a_permanent_failure_marks_the_signal_failed_with_its_reason(tenant, policy, monkeypatch):
    from decisions.services import decide

    def invalid(data, **kwargs):
        raise ValueError("unknown tenant")

    monkeypatch.setattr(decide, "evaluate", invalid)
    signal = _stored("s-3")
    assert signal_decide(signal_pk=str(signal.pk)) == "failed"
    signal.refresh_from_db()
    assert (signal.status, signal.last_error, signal.claimed_at) == ("failed", "unknown tenant", None)


def test_a_bug_is_retried_a_bounded_number_of_times_then_recorded(tenant, policy, monkeypatch):
    from decisions.services import decide

    def bug(data, **kwargs):
        raise TypeError("a programming error")

    policy.up = True
    monkeypatch.setattr(decide, "evaluate", bug)
    signal = _stored("s-4")
    # an early attempt is retried, leaving the signal waiting
    with pytest.raises(Retry):
        signal_decide_task.apply(args=[str(signal.pk)], retries=len(RETRY_COUNTDOWNS) - 1, throw=True)
    signal.refresh_from_db()
    assert signal.status == "received"
    # the last one records it as failed
    assert signal_decide_task.apply(args=[str(signal.pk)], retries=len(RETRY_COUNTDOWNS)).get() == "failed"
    signal.refresh_from_db()
    assert (signal.status, signal.last_error) == ("failed", "TypeError after retries")


class _DownStore:
    """A fatigue store whose Redis refuses connections (the real client's exception)."""

    def reserve_many(self, reservations, **kwargs):
        import redis.exceptions

        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_decide_with_the_cache_down_is_503_not_ready_and_writes_nothing(
    tenant, policy, client_for, monkeypatch
):
    from decisions.services import selection

    policy.up = True
    monkeypatch.setattr(selection, "fatigue_store", _DownStore)
    client = client_for(actor_id="dev-1", scopes=["mmm.decide"])
    body = {"tenant_id": "tenant-a", "signal": {"signal_id": "r-1", "source": "ubi", "event_type": "ubi.x"}}
    response = client.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "NOT_READY",
        "message": "Unavailable: cache.",
        "fields": {"cache": ["unavailable"]},
    }
    assert response["Retry-After"] == "5"
    assert not Signal.objects.exists() and not Decision.objects.exists()


def test_decide_with_the_database_down_is_503_not_ready(tenant, policy, client_for, monkeypatch):
    from django.db import OperationalError

    from decisions.services import decide

    def down(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    policy.up = True
    monkeypatch.setattr(decide, "signal_lookup", down)
    client = client_for(actor_id="dev-1", scopes=["mmm.decide"])
    body = {"tenant_id": "tenant-a", "signal": {"signal_id": "r-2", "source": "ubi", "event_type": "ubi.x"}}
    response = client.post("/v1/mmm/decide", body, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "NOT_READY")
    assert response.json()["error"]["fields"] == {"database": ["unavailable"]}


def test_a_batch_decides_its_signals_and_hands_one_it_cannot_decide_to_its_own_retries(
    tenant, policy, monkeypatch
):
    # given three stored signals, one already decided (a redelivered batch), and the Policy
    # service down for the tenant's decisions
    first, second, done = _stored("b-1"), _stored("b-2"), _stored("b-3")
    Signal.objects.filter(pk=done.pk).update(status="decided")
    handed = []
    monkeypatch.setattr(
        "tasks.ingest.enqueue", lambda name, ids, **kwargs: handed.append((name, ids, kwargs["countdown"]))
    )
    # when the batch task runs while Policy answers 503
    statuses = signals_decide_task.apply(args=[[str(first.pk), str(second.pk), str(done.pk)]]).get()
    # then each undecidable signal went to ingest.decide with the first retry countdown, stayed
    # received (nothing lost), and the decided one was skipped
    assert statuses == {"retrying": 2, "skipped": 1}
    assert handed == [
        ("ingest.decide", [str(first.pk)], RETRY_COUNTDOWNS[0]),
        ("ingest.decide", [str(second.pk)], RETRY_COUNTDOWNS[0]),
    ]
    assert set(Signal.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        "received"
    }
    # and once Policy is back the batch decides them
    policy.up = True
    assert signals_decide_task.apply(args=[[str(first.pk), str(second.pk)]]).get() == {"decided": 2}
    assert Decision.objects.filter(signal_id__in=[first.pk, second.pk]).count() == 2


def test_intake_enqueues_signals_in_batches(monkeypatch):
    from decisions.intake import services as intake

    published = []
    monkeypatch.setattr(
        intake, "enqueue", lambda name, ids, **kwargs: published.append((name, kwargs["batch"]))
    )
    intake._enqueue_decisions([f"pk-{n}" for n in range(25)])
    assert published == [("ingest.decide_batch", intake.DECIDE_BATCH)]
