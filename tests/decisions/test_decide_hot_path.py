"""The decide hot path (NFR-1, NFR-2): how many SQL statements a decide costs, the caches that make
it so (and that a change is still seen by the next decision), and the response built in memory."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from decisions.models import Action, Decision, DualChannelApproval
from decisions.serializers import DecisionOutputSerializer
from mmm_project.caching import TENANT_CONFIG, LocalCache, generation_bump, generation_key
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db

# signal lookup (UNION ALL), then one INSERT writing signal, decision, actions, deliveries, receipt
# (mmm_project.database.bulk_insert; on SQLite, one INSERT per table).
DECIDE_STATEMENTS = 2 if connection.vendor == "postgresql" else 6


@pytest.fixture
def tenant():
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})


def _decide(client, signal_id: str, *, repo: str = "org/a", event_type: str = "ci.check_run.failed", ts=None):
    body = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": repo, "branch": "main"},
        "signal": {"signal_id": signal_id, "source": "github", "event_type": event_type, "severity": "high"},
    }
    if ts is not None:  # the signal's time (count-trigger windows); the decide time otherwise
        body["signal"]["ts"] = ts.isoformat()
    response = client.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["decision"]


def _statements(queries) -> list[str]:
    """What the decide sent, without the test's own transaction (a savepoint in tests; the outer
    transaction's BEGIN/COMMIT in production)."""
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def test_a_decide_that_writes_actions_costs_two_statements(
    tenant, client_for, django_capture_on_commit_callbacks
):
    # given a warm process: caches filled by a first decide that committed
    client = client_for(actor_id="dev-1")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(client, "warm-1")
    # when the same actor decides again on another repository
    with CaptureQueriesContext(connection) as queries:
        decision = _decide(client, "hot-1", repo="org/b")
    # then actions were written by one statement after the one lookup (one per table on SQLite)
    statements = _statements(queries)
    assert [a["type"] for a in decision["actions"]] == ["mirror", "mentor"]
    assert len(statements) == DECIDE_STATEMENTS, "\n".join(s[:120] for s in statements)
    writes = statements[1:]
    for table in ("mmm_signals", "mmm_decisions", "mmm_actions", "mmm_deliveries", "mmm_receipts"):
        assert sum(f'INSERT INTO "{table}"' in s for s in writes) == 1, table
    assert Action.objects.filter(decision_id=decision["decision_id"]).count() == 2


def test_a_replayed_signal_answers_the_first_decision_without_writing(tenant, client_for):
    client = client_for(actor_id="dev-1")
    first = _decide(client, "again-1")
    with CaptureQueriesContext(connection) as queries:
        second = _decide(client, "again-1")
    assert second == first
    assert not [s for s in _statements(queries) if s.startswith(("INSERT", "UPDATE"))]
    assert Decision.objects.count() == 1


def test_the_response_built_in_memory_equals_the_field_by_field_one(tenant, client_for):
    # given a decision whose actions carry every status the response can show
    client = client_for(actor_id="dev-1")
    decision = Decision.objects.get(pk=_decide(client, "shape-1")["decision_id"])
    mirror, mentor = decision.actions.order_by("position")
    Action.objects.filter(pk=mentor.pk).update(llm_status="unsafe")
    DualChannelApproval.objects.create(
        tenant_id="tenant-a", action=mirror, decision=decision, actor_id="dev-1", status="rejected"
    )
    decision = Decision.objects.prefetch_related("actions", "actions__dual_channel_approval").get(
        pk=decision.pk
    )
    # when it is rendered both ways
    fast = DecisionOutputSerializer(decision).data
    by_fields = serializers.Serializer.to_representation(DecisionOutputSerializer(), decision)
    # then they are equal, statuses included
    assert fast == by_fields
    assert [a["status"] for a in fast["actions"]] == ["rejected", "suppressed"]


def test_a_policy_change_is_seen_by_the_next_decision(tenant, client_for):
    client = client_for(actor_id="dev-1")
    assert _decide(client, "pol-1")["actions"]
    from preferences.services import tenant_policy_update

    tenant_policy_update(tenant_id="tenant-a", changes={"enabled_action_types": ["mentor"]}, actor_id="admin")
    assert [a["type"] for a in _decide(client, "pol-2", repo="org/b")["actions"]] == ["mentor"]


def test_a_published_playbook_is_matched_by_the_next_decision(tenant, client_for):
    client = client_for(actor_id="dev-1")
    assert _decide(client, "pb-1", event_type="deploy.failed")["actions"] == []
    publish_playbook(mirror_playbook(name="deploys", event_type="deploy.failed"))
    assert [a["type"] for a in _decide(client, "pb-2", event_type="deploy.failed")["actions"]] == ["mirror"]


def test_another_process_s_change_invalidates_the_local_cache():
    # given a value cached under the tenant's current generation
    local = LocalCache(max_entries=8, max_age=60)
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    generation = cache.get(generation_key(TENANT_CONFIG, "t")) or "0"
    assert local.get_or_load("k", generation, load) == 1
    assert local.get_or_load("k", generation, load) == 1
    # when another process bumps the generation in the shared cache
    generation_bump(namespace=TENANT_CONFIG, tenant_id="t")
    # then the next read under the new generation loads again
    assert local.get_or_load("k", cache.get(generation_key(TENANT_CONFIG, "t")), load) == 2


def test_local_cache_entries_expire_and_stay_bounded(monkeypatch):
    local = LocalCache(max_entries=2, max_age=10)
    clock = [100.0]
    monkeypatch.setattr("mmm_project.caching.time.monotonic", lambda: clock[0])
    assert local.get_or_load("a", "g", lambda: "a1") == "a1"
    clock[0] += 11
    assert local.get_or_load("a", "g", lambda: "a2") == "a2"  # older than max_age: reloaded
    local.get_or_load("b", "g", lambda: "b1")
    local.get_or_load("c", "g", lambda: "c1")
    assert local.get_or_load("a", "g", lambda: "a3") == "a3"  # evicted as least recently used


def test_a_decide_reads_the_shared_cache_in_one_round_trip(
    tenant, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    # given a warm process and an actor whose preferences and pseudonym key are cached
    client = client_for(actor_id="dev-1")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(client, "warm-1")
        _decide(client, "warm-2", repo="org/c")
    reads, inside = [], []
    get, get_many = cache.get, cache.get_many
    from mmm_project.caching import prefetch

    send = prefetch._send

    def ahead(keys):  # Redis: one MGET sent ahead (services mode)
        reads.append(("mget", tuple(keys)))
        return send(keys)

    def one(key, *args, **kwargs):
        if not inside:  # the in-process cache's get_many reads key by key: one read all the same
            reads.append(("get", key))
        return get(key, *args, **kwargs)

    def many(keys, *args, **kwargs):
        reads.append(("get_many", tuple(keys)))
        inside.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(prefetch, "_send", ahead)
    monkeypatch.setattr(cache, "get", one)
    monkeypatch.setattr(cache, "get_many", many)
    # when the actor decides again
    _decide(client, "hot-1", repo="org/b")
    # then generation, preferences and pseudonym key came from one read: an MGET on Redis, a
    # get_many on the in-process cache (its read ahead is not possible)
    redis = hasattr(cache, "client") and hasattr(cache.client, "get_client")
    assert [kind for kind, _ in reads] == (["mget"] if redis else ["mget", "get_many"]), reads
    assert len(reads[-1][1]) == 3


def test_a_decide_takes_its_fatigue_slots_in_one_round_trip(tenant, client_for, monkeypatch):
    # given the shared fatigue store (Redis in services mode, in-process otherwise)
    from decisions.fatigue_store import fatigue_store

    store = type(fatigue_store())
    calls = []
    reserve_many = store.reserve_many
    monkeypatch.setattr(
        store,
        "reserve_many",
        lambda self, plans, **kw: calls.append(len(plans)) or reserve_many(self, plans, **kw),
    )
    monkeypatch.setattr(store, "reserve", lambda *a, **k: pytest.fail("one call per action"))
    # when a decide delivers two actions
    decision = _decide(client_for(actor_id="dev-1"), "slots-1")
    # then both slots were taken by one call (one EVALSHA on Redis)
    assert [a["type"] for a in decision["actions"]] == ["mirror", "mentor"]
    assert calls == [2]
