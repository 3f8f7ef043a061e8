"""Scenario 5 (FR-11, RF-MMM-03): the Policy service down for a safety-critical and a normal tenant.

Policy is a real local HTTP server (``POST /v1/policy/tenants/{id}/evaluate``) switched to 503.
- safety-critical tenant: decides answer with no actions, marked degraded;
- normal tenant: the last snapshot while it is at most 5 minutes old (``policy_stale``), then 503
  ``POLICY_UNAVAILABLE``; its signals accepted by ``/v1/mmm/signals`` meanwhile are not decided
  (nor failed) and are decided, once each, when Policy is back.
The 5 minutes are not waited for: the tenant's last snapshot is aged in the service's cache by a
``manage.py shell`` of the service itself.
"""

from __future__ import annotations

import pytest

from tests.faults.checks import decided
from tests.faults.instances import query
from tests.faults.peers import FakePolicy, serve
from tests.faults.stack import Stack, figures

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SAFE, NORMAL = "fault-safety", "fault-normal"
SIGNALS = 20
AGE_SNAPSHOT = """
import time
from django.core.cache import cache
from mmm_project.clients.policy import snapshot_cache_keys
key = snapshot_cache_keys({tenant!r})[1]
last = cache.get(key)
last["fetched_at"] = time.time() - 301
cache.set(key, last, timeout=24 * 3600)
print("aged")
"""


@pytest.fixture
def policy():
    server = serve()
    fake = FakePolicy()
    url = fake.install(server)
    yield fake, url
    server.clear()
    server.stop()


def _decide(stack: Stack, tenant: str, signal_id: str) -> tuple[int, dict]:
    response = stack.decide(tenant, signal_id)
    body = response.json()
    return response.status_code, body.get("decision") or body.get("error")


def _invalidate(stack: Stack, tenant: str) -> None:
    admin = stack.headers(tenant, "admin-1", roles=("tenant_admin",))
    response = stack.http.post(f"/v1/mmm/tenants/{tenant}/policy/invalidate", headers=admin)
    assert response.status_code == 204, response.text


def _statuses(conn, tenant: str) -> dict[str, int]:
    rows = query(
        conn, "SELECT status, count(*) FROM mmm_signals WHERE tenant_id = %s GROUP BY status", tenant
    )
    return dict(rows)


def test_policy_down_for_safety_critical_and_normal_tenants(make_stack, policy):
    # given Policy up, and one decision each so both tenants have a snapshot
    fake, url = policy
    stack = make_stack("policy_down", POLICY_URL=url)
    stack.start("web")
    stack.setup_tenant(SAFE, safety_critical=True)
    stack.setup_tenant(NORMAL)
    stack.start("worker")
    stack.start("beat")
    conn = stack.pg.connect(stack.db_name)
    for tenant in (SAFE, NORMAL):
        status, decision = _decide(stack, tenant, f"{tenant}-up")
        assert status == 200 and decision["actions"] and not decision["degraded_mode"], decision

    # when Policy goes down (and the cached snapshots are invalidated, as a policy change would)
    fake.down = True
    for tenant in (SAFE, NORMAL):
        _invalidate(stack, tenant)
    # then the safety-critical tenant gets no actions, degraded; the normal one the stale snapshot
    status, safe = _decide(stack, SAFE, "safe-down")
    assert status == 200 and safe["actions"] == [] and safe["degraded_mode"], safe
    status, normal = _decide(stack, NORMAL, "normal-stale")
    assert status == 200 and normal["actions"] and normal["policy_stale"], normal
    # and once that snapshot is older than 5 minutes: 503 POLICY_UNAVAILABLE
    aged = stack.manage("shell", "-c", AGE_SNAPSHOT.format(tenant=NORMAL))
    assert "aged" in aged.stdout, aged.stdout + aged.stderr
    status, refused = _decide(stack, NORMAL, "normal-too-stale")
    assert (status, refused["code"]) == (503, "POLICY_UNAVAILABLE"), refused

    # when signals arrive for both tenants during the outage
    ids = {tenant: [f"{tenant}-sig-{i:02d}" for i in range(SIGNALS)] for tenant in (SAFE, NORMAL)}
    accepted = {}
    for tenant, signal_ids in ids.items():
        response = stack.post_signals(tenant, signal_ids)
        assert response.status_code == 202, response.text
        accepted[tenant] = response.json()["accepted"]
    # then the safety-critical tenant's are decided at once, with no actions
    stack.wait_for(
        lambda: decided(conn, SAFE, ids[SAFE])[1] == SIGNALS, timeout=60, what="safety signals decided"
    )
    safe_actions = query(
        conn,
        "SELECT count(*) FROM mmm_actions a JOIN mmm_decisions d ON d.id = a.decision_id "
        "JOIN mmm_signals s ON s.id = d.signal_id WHERE s.signal_id = ANY(%s)",
        ids[SAFE],
    )[0][0]
    # and the normal tenant's wait, refused again and again but neither decided nor failed
    refusals = (
        "SELECT count(*) FROM mmm_receipts WHERE tenant_id = %s AND payload->>'decision_status' = 'refused'"
    )
    stack.wait_for(
        lambda: query(conn, refusals, NORMAL)[0][0] >= 1 + 2 * SIGNALS,
        timeout=60,
        what="each normal signal tried (and refused) at least twice",
    )
    during = _statuses(conn, NORMAL)
    decided_during = decided(conn, NORMAL, ids[NORMAL])[1]

    # when Policy is back: every normal signal is decided once, with a fresh snapshot
    fake.down = False
    stack.wait_for(
        lambda: decided(conn, NORMAL, ids[NORMAL])[1] == SIGNALS, timeout=90, what="normal signals decided"
    )
    decisions, distinct = decided(conn, NORMAL, ids[NORMAL])
    stale_after = query(
        conn,
        "SELECT count(*) FROM mmm_decisions d JOIN mmm_signals s ON s.id = d.signal_id "
        "WHERE s.signal_id = ANY(%s) AND (d.policy_stale OR d.degraded_mode)",
        ids[NORMAL],
    )[0][0]
    safe_decisions, safe_distinct = decided(conn, SAFE, ids[SAFE])
    line = figures(
        "Policy down",
        sent=2 * SIGNALS,
        accepted=len(accepted[SAFE]) + len(accepted[NORMAL]),
        decided=safe_distinct + distinct,
        lost=2 * SIGNALS - safe_distinct - distinct,
        duplicated=safe_decisions - safe_distinct + decisions - distinct,
        safety_actions=safe_actions,
        normal_decided_while_down=decided_during,
        normal_refusal_receipts=query(conn, refusals, NORMAL)[0][0],
        normal_degraded_after=stale_after,
    )
    assert safe_actions == 0, line
    assert decided_during == 0 and "failed" not in during, f"{line}; while down: {during}"
    assert (decisions, distinct, safe_decisions, safe_distinct) == (SIGNALS,) * 4, line
    assert stale_after == 0, line
    assert _statuses(conn, NORMAL) == {"decided": SIGNALS + 2}, line
    conn.close()
