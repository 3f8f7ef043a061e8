"""FR-2, spec 10.1: recent_incidents, recent_ci_results, time_bucket and the recent signals' times
in real decides on PostgreSQL; the Health & Reliability peer against a real local HTTP server
(pytest-httpserver), its timeout and 5xx degraded mode (NFR-6); what the new fields cost (NFR-1)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY as PROMETHEUS
from werkzeug import Response

from decisions.models import Signal
from decisions.services.decide import decision_create
from mmm_project.auth.principal import Principal
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.decisions.test_decide_hot_path import DECIDE_STATEMENTS
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday; 13:00 in Paris
PLAYBOOKS = {
    "incident": 'recent_incidents.exists(i, i.status == "firing" && i.repo_id == context.repo_id)',
    "repeat": 'recent_ci_results.filter(r, r.result == "failed").size() >= 1',
    "within-15m": 'recent_signals.exists(s, timestamp(signal.ts) - timestamp(s.ts) < duration("15m"))',
    "paris-lunch": 'time_bucket.weekday == "wed" && time_bucket.hour == 13'
    ' && time_bucket.timezone == "Europe/Paris"',
}


def _tenant(*names: str) -> None:
    TenantPolicyFactory(
        tenant_id="tenant-a",
        timezone="Europe/Paris",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    for name in names:
        publish_playbook(
            {
                "name": name,
                "triggers": [{"event_type": "ci.*"}],
                "conditions": [PLAYBOOKS[name]],
                "actions": [{**MIRROR, "title": name}],
            }
        )


def _decide(signal_id: str, at: datetime, *, repo: str = "org/app"):
    principal = Principal(actor_id="dev-1", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    request = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": repo, "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": at,
        },
    }
    return decision_create(principal=principal, data=request, now=at).decision


def _fired(decision) -> set[str]:
    return {a.payload["title"] for a in decision.actions.all()}


def _incident(signal_id: str, at: datetime, *, repo: str, status: str = "firing") -> None:
    Signal.objects.create(
        tenant_id="tenant-a",
        signal_id=signal_id,
        actor_id="team:sre",
        source="alertmanager",
        event_type=f"incident.{status}",
        severity="high",
        ts=at,
        payload={"alertname": "DatabaseDown", "receiver": "oncall@example.com"},
        context={"repo_id": repo, "environment": "prod"} if repo else {"environment": "prod"},
        status="decided",
    )


def test_each_new_field_drives_a_condition_in_a_real_decide():
    _tenant(*PLAYBOOKS)
    # a first failure: nothing recent, no incident; 13:00 on a Wednesday in Paris
    first = _decide("ci-1", T0)
    assert _fired(first) == {"paris-lunch"}
    assert first.context["time_bucket"] == {
        "hour": 13,
        "weekday": "wed",
        "day": "2026-03-04",
        "timezone": "Europe/Paris",
    }
    # an incident fires on the repository (and an older one, out of the 24 h window, elsewhere)
    _incident("am:db:firing", T0 + timedelta(minutes=10), repo="org/app")
    _incident("am:old:firing", T0 - timedelta(hours=30), repo="org/app")
    # 20 minutes later: a failed CI result is recent, but not within 15 minutes
    second = _decide("ci-2", T0 + timedelta(minutes=20))
    assert _fired(second) == {"incident", "repeat", "paris-lunch"}
    assert second.context["recent_signals"] == [
        {"signal_id": "ci-1", "event_type": "ci.check_run.failed", "severity": "high", "ts": T0.isoformat()}
    ]
    assert second.context["recent_ci_results"][0]["result"] == "failed"
    assert [i["incident_id"] for i in second.context["recent_incidents"]] == ["am:db:firing"]
    incident_action = next(a for a in second.actions.all() if a.payload["title"] == "incident")
    assert incident_action.payload["evidence_links"][:2] == ["ci-2", "am:db:firing"]
    assert "oncall@example.com" not in json.dumps(second.context) and "DatabaseDown" not in json.dumps(
        second.context
    )
    # 5 minutes after that, on another repository at 14:25 Paris: within 15 minutes, no incident there
    third = _decide("ci-3", T0 + timedelta(minutes=25, hours=1), repo="org/other")
    assert _fired(third) == {"repeat"}
    fourth = _decide("ci-4", T0 + timedelta(minutes=30, hours=1), repo="org/other")
    assert _fired(fourth) == {"repeat", "within-15m"}


def test_the_embedded_incidents_are_the_repository_s_and_the_tenant_wide_ones():
    _tenant("incident")
    Signal.objects.create(
        tenant_id="tenant-a",
        signal_id="am:net:firing",
        actor_id="team:net",
        source="alertmanager",
        event_type="incident.firing",
        severity="critical",
        ts=T0 - timedelta(minutes=5),
        context={"environment": "prod"},
    )
    _incident("am:other:firing", T0 - timedelta(minutes=4), repo="org/other")
    _incident("am:app:resolved", T0 - timedelta(minutes=3), repo="org/app", status="resolved")
    on_app = _decide("ci-1", T0, repo="org/app")
    assert [(i["incident_id"], i["status"], i["repo_id"]) for i in on_app.context["recent_incidents"]] == [
        ("am:app:resolved", "resolved", "org/app"),
        ("am:net:firing", "firing", ""),
    ]
    assert _fired(on_app) == set()  # nothing firing on org/app itself
    anywhere = _decide("ci-2", T0 + timedelta(minutes=1), repo="")
    assert len(anywhere.context["recent_incidents"]) == 3
    assert _fired(anywhere) == {"incident"}  # the tenant-wide one: "" == context.repo_id ""


def _statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def test_incidents_cost_one_query_only_for_a_tenant_whose_playbooks_use_them(
    django_capture_on_commit_callbacks,
):
    # given a warm process and a tenant with one playbook that reads recent_incidents
    _tenant("incident")
    _incident("am:db:firing", T0 - timedelta(minutes=5), repo="org/app")
    with django_capture_on_commit_callbacks(execute=True):
        _decide("warm-1", T0)
    with CaptureQueriesContext(connection) as queries:
        decision = _decide("hot-1", T0 + timedelta(minutes=1))
    statements = _statements(queries)
    # then the decide that writes actions costs the usual statements plus the incident read
    assert _fired(decision) == {"incident"}
    assert len(statements) == DECIDE_STATEMENTS + 1, "\n".join(s[:120] for s in statements)
    assert sum("incident." in s for s in statements) == 1


def test_a_tenant_whose_playbooks_do_not_use_incidents_does_not_read_them(django_capture_on_commit_callbacks):
    _tenant("repeat")
    with django_capture_on_commit_callbacks(execute=True):
        _decide("warm-1", T0)
        _decide("warm-2", T0 + timedelta(seconds=30))  # matches: the caches it reads are warm too
    with CaptureQueriesContext(connection) as queries:
        decision = _decide("hot-1", T0 + timedelta(minutes=1))
    statements = _statements(queries)
    assert _fired(decision) == {"repeat"}
    assert len(statements) == DECIDE_STATEMENTS, "\n".join(s[:150] for s in statements)
    assert not [s for s in statements if "incident." in s]
    assert decision.context["recent_incidents"] == []


# --- Health & Reliability peer ------------------------------------------------------------------------


class HealthReliability:
    """``GET /v1/health-reliability/incidents``: scripted statuses (int) or hangs (float seconds)."""

    def __init__(self, httpserver) -> None:
        self.requests: list[dict[str, str]] = []
        self.script: list[int | float] = []
        self.incidents = [
            {
                "incident_id": "hr-1",
                "status": "firing",
                "severity": "critical",
                "repo_id": "org/app",
                "environment": "prod",
                "started_at": "2026-03-04T11:50:00Z",
                "title": "Checkout down, paged Jane Doe",
                "responders": ["jane@example.com"],
            }
        ]
        httpserver.expect_request("/v1/health-reliability/incidents").respond_with_handler(self.handle)

    def handle(self, request):
        self.requests.append(dict(request.args))
        step = self.script.pop(0) if self.script else None
        if isinstance(step, float):
            time.sleep(step)
        elif isinstance(step, int):
            return Response(status=step)
        return Response(json.dumps({"incidents": self.incidents}), content_type="application/json")


@pytest.fixture
def health(httpserver, settings):
    settings.HEALTH_RELIABILITY_URL = httpserver.url_for("/").rstrip("/")
    settings.HEALTH_RELIABILITY_TIMEOUT_SECONDS = 0.3
    return HealthReliability(httpserver)


def _degraded_count() -> float:
    labels = {"tenant_id": "tenant-a", "peer": "health_reliability"}
    return PROMETHEUS.get_sample_value("mmm_degraded_decisions_total", labels) or 0.0


def test_health_reliability_incidents_feed_conditions_metadata_only(health):
    _tenant("incident")
    _incident("am:local:firing", T0 - timedelta(minutes=5), repo="org/app")  # not read: the peer is
    decision = _decide("ci-1", T0)
    assert _fired(decision) == {"incident"} and decision.degraded_mode is False
    assert health.requests == [
        {"tenant_id": "tenant-a", "status": "active", "limit": "10", "repo_id": "org/app"}
    ]
    assert decision.context["recent_incidents"] == [
        {
            "incident_id": "hr-1",
            "status": "firing",
            "severity": "critical",
            "repo_id": "org/app",
            "environment": "prod",
            "ts": "2026-03-04T11:50:00+00:00",
        }
    ]
    text = json.dumps(decision.context)
    assert "Jane" not in text and "jane@example.com" not in text
    _decide("ci-2", T0 + timedelta(seconds=5))
    assert len(health.requests) == 1  # cached 30 s


@pytest.mark.parametrize("failure", [503, 0.6], ids=["5xx", "timeout"])
def test_health_reliability_down_means_no_incidents_in_degraded_mode(health, failure):
    _tenant("incident", "paris-lunch")
    health.script = [failure]
    before = _degraded_count()
    started = time.perf_counter()
    decision = _decide("ci-1", T0)
    assert time.perf_counter() - started < 0.6  # the 0.3 s timeout, not the peer's hang
    assert _fired(decision) == {"paris-lunch"}  # decided all the same, without incidents
    assert decision.context["recent_incidents"] == [] and decision.degraded_mode is True
    assert _degraded_count() == before + 1
    assert receipt_document(Receipt.objects.get(decision_id=decision.id, kind="decision"))["degraded"] is True
    time.sleep(0.4)  # the peer (one request at a time) finishes the hung request
    cache.clear()
    assert _fired(_decide("ci-2", T0 + timedelta(minutes=1))) == {"incident", "paris-lunch"}  # back


def test_health_reliability_is_not_asked_when_no_playbook_uses_incidents(health):
    _tenant("repeat", "paris-lunch")
    decision = _decide("ci-1", T0)
    assert health.requests == [] and decision.degraded_mode is False


def test_recent_signals_from_the_worker_path_and_from_ubi_carry_their_times(httpserver, settings):
    from decisions.selectors import recent_signal_metadata

    _tenant("within-15m")
    _decide("ci-1", T0)
    # the worker's read (decisions.selectors.recent_signal_metadata) keeps ts
    assert recent_signal_metadata(tenant_id="tenant-a", actor_id="dev-1", limit=10)[0]["ts"] == T0
    # UBI's signals keep theirs, as ISO 8601, and conditions compare them
    settings.UBI_URL = httpserver.url_for("/").rstrip("/")
    signal = {"signal_id": "u1", "event_type": "ubi.focus.interrupted", "severity": "low"}
    httpserver.expect_request("/v1/ubi/signals/recent").respond_with_json(
        {"signals": [{**signal, "ts": "2026-03-04T13:05:00+01:00"}]}
    )
    decision = _decide("ci-2", T0 + timedelta(minutes=10))
    assert decision.context["recent_signals"] == [{**signal, "ts": "2026-03-04T12:05:00+00:00"}]
    assert _fired(decision) == {"within-15m"}


def _stored(signal_id: str, at: datetime, *, status: str) -> Signal:
    return Signal.objects.create(
        tenant_id="tenant-a",
        signal_id=signal_id,
        actor_id="dev-1",
        source="github",
        event_type="ci.check_run.failed",
        severity="high",
        ts=at,
        context={"repo_id": "org/app", "branch": "main"},
        status=status,
    )


@pytest.mark.parametrize("path", ["worker", "decide"])
def test_a_stored_signal_is_not_one_of_its_own_recent_signals(path):
    """FR-2: the recent signals are the actor's others, whether the signal was stored before its
    decision (ingestion: the worker, or a decide of an ingested signal) or with it."""
    from decisions.models import Decision
    from decisions.services.decide import signal_decide

    _tenant("within-15m")
    _stored("ci-0", T0 - timedelta(hours=2), status="decided")  # too old for the condition
    signal = _stored("ci-1", T0, status="received")
    if path == "worker":
        assert signal_decide(signal_pk=str(signal.pk), now=T0) == "decided"
        decision = Decision.objects.get(signal_id=signal.pk)
    else:
        decision = _decide("ci-1", T0)
    assert [s["signal_id"] for s in decision.context["recent_signals"]] == ["ci-0"]
    # its own row would have been "within 15 minutes" of itself
    assert _fired(decision) == set()
