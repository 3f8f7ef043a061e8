"""Peers on the decide path against real local HTTP servers (FR-11, NFR-6, RF-MMM-03).

Policy, Data Governance and UBI are pytest-httpserver servers answering their spec contracts;
the real clients, caches, breakers and degraded modes run.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from prometheus_client import REGISTRY as PROMETHEUS
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from werkzeug import Response

from decisions.models import Decision
from decisions.services.decide import decision_create
from mmm_project.auth.principal import Principal
from mmm_project.clients import policy as policy_client
from mmm_project.clients.policy import snapshot_cache_keys
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

SNAPSHOT = {
    "allowed": True,
    "policy_snapshot_id": "snap-7",
    "policy_version_ids": ["pv-1", "pv-2"],
    "restrictions": [],
    "override_windows": [],
}


class Peer:
    """A scripted peer: JSON answers, failures (status codes) or hangs (seconds)."""

    def __init__(self, httpserver, path: str, body):
        self.body = body
        self.script: list = []
        self.calls = 0
        httpserver.expect_request(path).respond_with_handler(self.handle)

    def handle(self, request):
        self.calls += 1
        step = self.script.pop(0) if self.script else None
        if isinstance(step, float):
            time.sleep(step)
        elif isinstance(step, int):
            return Response(status=step)
        return Response(json.dumps(self.body), content_type="application/json")


@pytest.fixture
def policy(httpserver, settings):
    settings.POLICY_URL = httpserver.url_for("/").rstrip("/")
    return Peer(httpserver, "/v1/policy/tenants/tenant-a/evaluate", dict(SNAPSHOT))


@pytest.fixture
def tenant():
    policy = TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})
    return policy


def decide(signal_id, *, now=None, expect=200):
    token_client = APIClient()
    from mmm_project.auth.tokens import mint_token

    token = mint_token(tenant_id="tenant-a", actor_id="dev-1", scopes=["mmm.decide"])
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.check_run.failed"},
    }
    response = token_client.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def test_policy_snapshot_shapes_the_decision_and_its_receipt(tenant, policy):
    policy.body["restrictions"] = ["mentor"]
    decision = decide("p1")["decision"]
    assert decision["policy_snapshot_id"] == "snap-7"
    assert [a["type"] for a in decision["actions"]] == ["mirror"]
    assert decision["degraded_mode"] is False and decision["policy_stale"] is False
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert stored.policy_version_ids == ["pv-1", "pv-2"]
    assert [s["reason"] for s in stored.suppressed_actions] == ["policy.restricted"]
    receipt = receipt_document(Receipt.objects.get(decision_id=stored.id))
    assert receipt["policy_version_ids"] == ["pv-1", "pv-2"] and receipt["degraded"] is False


def test_policy_not_allowed_means_no_actions(tenant, policy):
    policy.body["allowed"] = False
    assert decide("p1")["decision"]["actions"] == []


def test_snapshot_cached_60s_and_push_invalidation_refetches(tenant, policy, client_for):
    decide("p1")
    decide("p2")
    assert policy.calls == 1
    admin = client_for(roles=["tenant_admin"])
    assert admin.post("/v1/mmm/tenants/tenant-a/policy/invalidate").status_code == 204
    policy.body["policy_snapshot_id"] = "snap-8"
    assert decide("p3")["decision"]["policy_snapshot_id"] == "snap-8"
    assert policy.calls == 2
    assert admin.post("/v1/mmm/tenants/tenant-b/policy/invalidate").status_code == 404


def test_rf_mmm_03_policy_down_uses_a_recent_snapshot_marked_stale(tenant, policy):
    decide("p1")
    cache.delete(snapshot_cache_keys("tenant-a")[0])  # the 60 s cache ran out
    policy.script = [503]
    decision = decide("p2")["decision"]
    assert (decision["policy_stale"], decision["degraded_mode"]) == (True, True)
    assert decision["policy_snapshot_id"] == "snap-7" and decision["actions"]
    receipt = receipt_document(Receipt.objects.get(decision_id=decision["decision_id"]))
    assert receipt["degraded"] is True and "policy_stale" in receipt["risk_flags"]


def test_rf_mmm_03_a_snapshot_older_than_5_minutes_is_never_used(tenant, policy):
    decide("p1")
    fresh, last = snapshot_cache_keys("tenant-a")
    cache.delete(fresh)
    old = cache.get(last)
    cache.set(last, {**old, "fetched_at": old["fetched_at"] - 301})
    policy.script = [503]
    error = decide("p2", expect=503)["error"]
    assert error["code"] == "POLICY_UNAVAILABLE"
    assert not Decision.objects.filter(signal__signal_id="p2").exists()
    refusal = receipt_document(Receipt.objects.get(payload__decision_status="refused"))
    assert refusal["inputs"] == {"signal_id": "p2"} and refusal["degraded"] is True


def test_policy_down_with_no_snapshot_ever_is_503(tenant, policy):
    policy.script = [500]
    assert decide("p1", expect=503)["error"]["code"] == "POLICY_UNAVAILABLE"


def test_rf_mmm_03_safety_critical_tenant_fails_closed(tenant, policy):
    tenant.safety_critical = True
    tenant.save()
    policy.script = [503]
    decision = decide("p1")["decision"]
    assert decision["actions"] == [] and decision["degraded_mode"] is True
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert {s["reason"] for s in stored.suppressed_actions} == {"policy.unavailable_fail_closed"}
    assert _receipt_of(stored)["degraded"] is True


def test_a_hanging_policy_costs_no_more_than_its_timeout(tenant, policy, settings):
    settings.POLICY_TIMEOUT_SECONDS = 0.3
    tenant.safety_critical = True
    tenant.save()
    policy.script = [2.0]
    started = time.monotonic()
    decision = decide("p1")["decision"]
    assert time.monotonic() - started < 1.5
    assert decision["actions"] == [] and decision["degraded_mode"] is True


def test_breaker_opens_after_5_failures_then_a_half_open_trial_closes_it(tenant, policy, client_for):
    tenant.safety_critical = True
    tenant.save()
    policy.script = [503] * 5
    for i in range(6):
        decide(f"f{i}")
    assert policy.calls == 5  # the sixth decision did not call a peer known to be down
    assert policy_client.client.state == "open"
    assert (
        PROMETHEUS.get_sample_value("mmm_circuit_breaker_state", {"service_name": "policy", "state": "open"})
        == 1
    )
    assert APIClient().get("/v1/mmm/ready").json()["peers"] == {"policy": "open"}
    # 60 s later (moved, not slept) one trial call goes through and closes the breaker
    storage = policy_client.client.breaker._state_storage
    storage.opened_at = datetime.now(UTC) - timedelta(seconds=61)
    decision = decide("after")["decision"]
    assert policy.calls == 6 and decision["actions"]
    assert policy_client.client.state == "closed"


# --- Data Governance and UBI ------------------------------------------------------------------------


def _receipt_of(decision) -> dict:
    return receipt_document(Receipt.objects.get(decision_id=decision.id, kind="decision"))


def _at(hour_utc: int, signal_id: str, **overrides):
    principal = Principal(actor_id="dev-1", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    now = datetime(2026, 3, 4, hour_utc, 30, tzinfo=UTC)
    request = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": now,
        },
    }
    return decision_create(principal=principal, data=request, now=now).decision


def test_data_governance_quiet_hours_apply_and_default_when_down(tenant, httpserver, settings):
    settings.DATA_GOVERNANCE_URL = httpserver.url_for("/").rstrip("/")
    dg = Peer(
        httpserver,
        "/v1/data-governance/tenants/tenant-a/config",
        {"quiet_hours": {"start": 12, "end": 14, "timezone": "UTC"}, "retention": {}},
    )
    midday = _at(12, "dg-1")
    assert midday.actions.count() == 0 and midday.degraded_mode is False  # Data Governance says 12-14
    cache.clear()
    dg.script = [503]
    night = _at(23, "dg-2")  # tenant policy had quiet hours off; the 22-06 default applies now
    assert night.actions.count() == 0 and night.degraded_mode is True
    assert {s["reason"] for s in night.suppressed_actions} == {"fatigue.quiet_hours"}
    assert _receipt_of(night)["degraded"] is True
    cache.clear()
    dg.script = [503]
    assert _at(10, "dg-3").actions.count() == 2


def test_ubi_recent_signals_feed_conditions_and_none_when_down(tenant, httpserver, settings):
    settings.UBI_URL = httpserver.url_for("/").rstrip("/")
    ubi = Peer(
        httpserver,
        "/v1/ubi/signals/recent",
        {
            "signals": [
                {
                    "signal_id": "u1",
                    "event_type": "ubi.focus.interrupted",
                    "severity": "low",
                    "actor_email": "dev@example.com",
                }
            ]
        },
    )
    publish_playbook(
        {
            "name": "focus",
            "triggers": [{"event_type": "ci.*"}],
            "conditions": ['recent_signals.exists(s, s.event_type == "ubi.focus.interrupted")'],
            "actions": [{**MIRROR, "title": "focus"}],
        }
    )
    with_ubi = _at(10, "u-1")
    assert "focus" in [a.payload["title"] for a in with_ubi.actions.all()]
    assert "dev@example.com" not in json.dumps(with_ubi.context)  # only metadata kept
    cache.clear()
    ubi.script = [503]
    without = _at(10, "u-2")
    assert "focus" not in [a.payload["title"] for a in without.actions.all()]
    assert without.context["recent_signals"] == [] and without.degraded_mode is True
    assert _receipt_of(without)["degraded"] is True and _receipt_of(with_ubi)["degraded"] is False


class Rendezvous:
    """Two peers that answer only once both requests are in flight: asked one after the other,
    the first waits in vain (the barrier breaks) and answers 503. Records the overlap it saw."""

    def __init__(self, server, paths: dict[str, object]) -> None:
        self.barrier = threading.Barrier(len(paths), timeout=5)
        self.overlapped: list[bool] = []
        for path, body in paths.items():
            server.expect_request(path).respond_with_handler(self._handler(body))

    def _handler(self, body):
        def handle(request):
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                self.overlapped.append(False)
                return Response(status=503)
            self.overlapped.append(True)
            return Response(json.dumps(body), content_type="application/json")

        return handle


@pytest.fixture
def threaded_server():
    # pytest-httpserver's default server answers one request at a time, which would serialise
    # the very calls this checks; this one has a thread per request.
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_peers_are_asked_in_parallel(tenant, threaded_server, settings):
    # given UBI and Data Governance that answer only when both requests overlap
    settings.UBI_URL = settings.DATA_GOVERNANCE_URL = threaded_server.url_for("/").rstrip("/")
    peers = Rendezvous(
        threaded_server,
        {
            "/v1/ubi/signals/recent": {"signals": []},
            "/v1/data-governance/tenants/tenant-a/config": {
                "quiet_hours": {"start": 0, "end": 0, "timezone": "UTC"}
            },
        },
    )
    # when a decision asks them
    decision = _at(10, "par-1")
    # then both requests were in flight together, and neither peer counted as down
    assert peers.overlapped == [True, True]
    assert decision.degraded_mode is False


# --- IAM and Gold Standards ---------------------------------------------------------------------------

CLAIMS = {
    "sub": "dev-1",
    "tenant_id": "tenant-a",
    "actor_type": "human",
    "roles": ["developer"],
    "scope": "mmm.decide mmm.read",
    "exp": int(time.time()) + 600,
}


@pytest.fixture
def iam(httpserver, settings):
    settings.IAM_URL = httpserver.url_for("/").rstrip("/")
    verify = Peer(httpserver, "/v1/iam/verify", {"valid": True, "claims": dict(CLAIMS)})
    decision = Peer(httpserver, "/v1/iam/decision", {"allowed": True, "roles": ["sre"]})
    return verify, decision


def _iam_decide(signal_id, token="opaque-iam-token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {
        "tenant_id": "tenant-a",
        "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.check_run.failed"},
    }
    return client.post("/v1/mmm/decide", body, format="json")


def test_iam_verifies_tokens_and_caches_the_verdict(tenant, iam):
    verify, _ = iam
    assert _iam_decide("i1").status_code == 200
    assert _iam_decide("i2").status_code == 200
    assert verify.calls == 1  # cached for min(60 s, the token's remaining life)
    verify.body = {"valid": False}
    assert _iam_decide("i3", token="another-token").status_code == 401


def test_iam_roles_drive_role_triggers(tenant, iam):
    publish_playbook(
        {
            "name": "sre-only",
            "triggers": [{"event_type": "ci.*", "actor_roles": ["sre"]}],
            "actions": [{**MIRROR, "title": "for SREs"}],
        }
    )
    titles = [a["payload"]["title"] for a in _iam_decide("r1").json()["decision"]["actions"]]
    assert "for SREs" in titles  # the token says developer; the IAM's decision says sre


def test_iam_down_is_503_and_a_denial_is_403(tenant, iam):
    verify, decision = iam
    decision.body = {"allowed": False, "roles": []}
    assert _iam_decide("d1").status_code == 403
    decision.script = [503]
    response = _iam_decide("d2")
    assert response.status_code == 503 and response.json()["error"]["code"] == "IAM_UNAVAILABLE"
    cache.clear()
    verify.script = [503]
    response = _iam_decide("d3")
    assert response.status_code == 503 and response.json()["error"]["code"] == "IAM_UNAVAILABLE"
    assert not Decision.objects.exists()


def test_gold_standards_restrict_and_mirror_only_when_down(tenant, httpserver, settings):
    settings.GOLD_STANDARDS_URL = httpserver.url_for("/").rstrip("/")
    standards = Peer(httpserver, "/v1/standards", {"restrictions": ["mentor"]})
    first = decide("g1")["decision"]
    assert [a["type"] for a in first["actions"]] == ["mirror"] and first["degraded_mode"] is False
    standards.body = {"restrictions": []}
    assert [a["type"] for a in decide("g2")["decision"]["actions"]] == ["mirror", "mentor"]
    standards.script = [503]
    down = decide("g3")["decision"]
    assert [a["type"] for a in down["actions"]] == ["mirror"] and down["degraded_mode"] is True
    assert receipt_document(Receipt.objects.get(decision_id=down["decision_id"]))["degraded"] is True
