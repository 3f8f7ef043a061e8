"""A decide's cache read is under way while it queries the database (``cache_prefetch``, NFR-1):
the MGET is sent before the signal lookup and its answer read after it; a read-ahead that fails
is read again; a lookup sized on the candidates this process saw earlier is redone when the
configuration changed them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from decisions.models import Decision
from mmm_project.caching import prefetch
from playbooks.models import Playbook
from tests.decisions.test_decide_hot_path import _decide, tenant  # noqa: F401 - fixture
from tests.factories import mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db

redis_only = pytest.mark.skipif(
    not hasattr(cache, "client") or not hasattr(cache.client, "get_client"),
    reason="the read ahead is django-redis's (services mode); other caches read at once",
)


@redis_only
def test_the_cache_read_is_under_way_during_the_signal_lookup(tenant, client_for, monkeypatch):  # noqa: F811
    client = client_for(actor_id="dev-1")
    _decide(client, "warm-1")  # this process has seen the signal's candidates
    events = []
    send, receive = prefetch._send, prefetch._receive
    monkeypatch.setattr(prefetch, "_send", lambda keys: events.append("mget sent") or send(keys))
    monkeypatch.setattr(prefetch, "_receive", lambda *a: events.append("mget read") or receive(*a))

    def statements(execute, sql, params, many, context):
        events.append("lookup" if "UNION ALL" in sql else "write")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(statements):
        decision = _decide(client, "hot-1", repo="org/b")
    assert [e for e in events if e != "write"] == ["mget sent", "lookup", "mget read"]
    assert [a["type"] for a in decision["actions"]] == ["mirror", "mentor"]


@redis_only
def test_a_read_ahead_that_fails_is_read_again(tenant, client_for, monkeypatch):  # noqa: F811
    client = client_for(actor_id="dev-1")
    _decide(client, "warm-1")
    calls = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: calls.append(keys) or get_many(keys))

    def dropped(pending, keys):
        _pool, conn = pending
        conn.disconnect()  # the connection died with the answer on it
        return receive(pending, keys)

    receive = prefetch._receive
    monkeypatch.setattr(prefetch, "_receive", dropped)
    decision = _decide(client, "hot-1", repo="org/b")
    assert len(calls) == 1 and len(calls[0]) == 3  # read again, at once
    assert [a["type"] for a in decision["actions"]] == ["mirror", "mentor"]


def test_a_count_trigger_changed_since_the_process_last_looked_counts_its_own_window(tenant, client_for):  # noqa: F811
    # given a process that saw the signal's candidates with a count trigger over 30 minutes
    client = client_for(actor_id="dev-1")
    publish_playbook(mirror_playbook(name="third-in-30", triggers=[_third(30)]))
    for n, minutes_ago in enumerate((50, 45)):  # outside 30 minutes, inside 60
        _decide_at(client, f"before-{n}", minutes_ago)
    # when a playbook counting over 60 minutes is published (the lookup it needs is wider)
    publish_playbook(mirror_playbook(name="third-in-60", triggers=[_third(60)]))
    decision = _decide_at(client, "after-1", 0)
    # then the decision counted the failures of the last 60 minutes for it (30 for the other:
    # one, so it does not fire)
    fired = {f["playbook_id"]: f for f in Decision.objects.get(pk=decision["decision_id"]).playbooks_fired}
    ids = {name: str(Playbook.objects.get(name=name).id) for name in ("third-in-30", "third-in-60")}
    assert ids["third-in-30"] not in fired
    assert fired[ids["third-in-60"]]["trigger_count"]["count"] == 3


def _third(window: int) -> dict:
    return {"event_type": "ci.check_run.failed", "count": 3, "window_minutes": window}


def _decide_at(client, signal_id: str, minutes_ago: int) -> dict:
    return _decide(client, signal_id, ts=timezone.now() - timedelta(minutes=minutes_ago))
