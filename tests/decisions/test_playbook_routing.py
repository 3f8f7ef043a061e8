"""Per-playbook routing (FR-3 routing rules, FR-7): quiet hours, quotas and escalation to the alert
surface after unacknowledged deliveries, through the real decide, outcome, receipt and explanation
paths on PostgreSQL and the fatigue store (Redis when ``REDIS_URL`` is set, and in-process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.models import Decision
from decisions.services.decide import decision_create
from mmm_project.auth.principal import Principal
from mmm_project.caching import TENANT_CONFIG, generation_bump
from receipts.models import Receipt, ReceiptKind
from tests.decisions.test_decide_hot_path import DECIDE_STATEMENTS
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER
from tests.factories import ActorPreferencesFactory, TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
ESCALATING = {"escalation": {"after_unacknowledged": 2, "surface": "alert"}}
PRINCIPAL = Principal(actor_id="actor-1", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))


@pytest.fixture(autouse=True)
def tenant():
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
        max_actions_per_repo_per_day=100,
    )


@pytest.fixture(params=["redis", "in_process"])
def store(request, settings):
    """Each fatigue store: Redis (when the environment has one) and the embedded in-process one."""
    if request.param == "in_process":
        settings.REDIS_URL = ""
    elif not settings.REDIS_URL:
        pytest.skip("no Redis configured")
    return request.param


def _playbook(name: str, actions=(MIRROR,), **extra) -> dict:
    return {"name": name, "triggers": [{"event_type": "ci.*"}], "actions": list(actions), **extra}


def _decide(signal_id: str, *, now: datetime = NOON, repo: str = "org/app"):
    request = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": repo, "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": now,
        },
    }
    return decision_create(principal=PRINCIPAL, data=request, now=now).decision


def _reasons(decision) -> list[str]:
    return [r["reason"] for r in Decision.objects.get(pk=decision.pk).suppressed_actions]


def _receipt(decision) -> dict:
    return Receipt.objects.get(decision_id=decision.pk, kind=ReceiptKind.DECISION).payload


def test_a_playbooks_quiet_hours_hold_only_its_own_actions(client_for):
    # given a playbook quiet 22:00-07:00 in Berlin, and a plain one, both matching
    publish_playbook(
        _playbook(
            "night-quiet",
            routing={"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}},
        )
    )
    publish_playbook(_playbook("always"))
    # when a signal comes at 21:30 UTC (22:30 in Berlin), then at 06:30 UTC (07:30 in Berlin)
    night = _decide("q1", now=datetime(2026, 1, 10, 21, 30, tzinfo=UTC))
    morning = _decide("q2", now=datetime(2026, 1, 11, 6, 30, tzinfo=UTC))
    # then at night only the plain playbook's action goes out, with the reason kept and receipted
    assert [a.playbook_version.playbook.name for a in night.actions.all()] == ["always"]
    assert _reasons(night) == ["fatigue.playbook_quiet_hours"]
    assert [r["reason"] for r in _receipt(night)["suppressed_actions"]] == ["fatigue.playbook_quiet_hours"]
    assert morning.actions.count() == 2 and _reasons(morning) == []
    # and the explanation says why, in a sentence
    explained = client_for(actor_id="actor-1").get(f"/v1/mmm/decisions/{night.pk}/explanation").json()
    assert [(s["reason_code"], s["playbook_name"]) for s in explained["suppressed"]] == [
        ("fatigue.playbook_quiet_hours", "night-quiet")
    ]
    assert "playbook's own quiet hours" in explained["suppressed"][0]["text"]


def test_a_playbooks_daily_quota_per_actor(store):
    # given a playbook allowing 2 actions a day per actor, and a plain one
    publish_playbook(_playbook("twice-a-day", limits={"max_actions_per_day": 2}))
    publish_playbook(_playbook("always"))
    # when actor-1 gets four signals that day (different repositories), and one the next day
    decisions = [_decide(f"d{n}", now=NOON + timedelta(minutes=n), repo=f"org/r{n}") for n in range(4)]
    next_day = _decide("d-next", now=NOON + timedelta(days=1))
    # then the playbook delivers twice, then is held by its own quota; the other one is not
    assert [d.actions.count() for d in decisions] == [2, 2, 1, 1]
    assert [_reasons(d) for d in decisions[2:]] == [["fatigue.playbook_quota_day"]] * 2
    assert next_day.actions.count() == 2
    # and another actor has a quota of their own
    other = Principal(actor_id="dev-2", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    request = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app"},
        "signal": {
            "signal_id": "o1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    assert decision_create(principal=other, data=request, now=NOON).decision.actions.count() == 2


def test_a_playbooks_hourly_quota(store):
    publish_playbook(_playbook("once-an-hour", limits={"max_actions_per_hour": 1}))
    first, second = _decide("h1", now=NOON), _decide("h2", now=NOON + timedelta(minutes=5), repo="org/b")
    later = _decide("h3", now=NOON + timedelta(hours=1), repo="org/c")
    assert (first.actions.count(), second.actions.count(), later.actions.count()) == (1, 0, 1)
    assert _reasons(second) == ["fatigue.playbook_quota_hour"]


def _surfaces(decision) -> list[tuple[str, ...]]:
    return [tuple(a.surfaces) for a in decision.actions.all()]


def test_escalation_to_alert_after_unacknowledged_deliveries(
    store, client_for, django_capture_on_commit_callbacks
):
    # given a playbook that escalates after 2 unacknowledged deliveries
    publish_playbook(_playbook("escalating", routing=ESCALATING))
    minute = iter(range(100))

    def decide():
        return _decide(f"e{next(minute)}", now=NOON + timedelta(minutes=next(minute)))

    # when actor-1 gets three signals on the same repository and acknowledges none
    first, second, third = decide(), decide(), decide()
    # then the third action goes to the alert surface instead, the reason on the action and receipt
    assert _surfaces(first) == _surfaces(second) == [("ide", "ci")]
    assert _surfaces(third) == [("alert",)]
    action = third.actions.get()
    assert action.route_reason == "routing.escalated"
    assert set(action.surface_payloads) == {"alert"}
    same = ("title", "body")  # the same content: a route change only
    assert {k: action.payload[k] for k in same} == {k: first.actions.get().payload[k] for k in same}
    receipt = _receipt(third)
    assert receipt["proposed_actions"][0]["route_reason"] == "routing.escalated"
    assert "escalated" in receipt["decision_badges"]
    assert "route_reason" not in _receipt(first)["proposed_actions"][0]
    # and the count starts again after the escalation
    fourth = decide()
    assert _surfaces(fourth) == [("ide", "ci")]
    # when the actor acknowledges an action (dismissed), the count starts again too
    client = client_for(actor_id="actor-1")
    url = f"/v1/mmm/decisions/{fourth.pk}/outcomes"
    shown = {"action_id": str(fourth.actions.get().pk), "result": "shown"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, shown, format="json").status_code == 202  # not an acknowledgement
    fifth = decide()
    assert _surfaces(fifth) == [("ide", "ci")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**shown, "result": "dismissed", "reason": "seen it"}, format="json")
        assert response.status_code == 202
    assert [_surfaces(decide()) for _ in range(3)] == [[("ide", "ci")], [("ide", "ci")], [("alert",)]]
    # and the explanation of the escalated action says so
    explained = client.get(f"/v1/mmm/actions/{action.pk}/explanation").json()
    routing = [g for g in explained["gates"] if g["gate"] == "routing"]
    assert len(routing) == 1 and "alert" in routing[0]["text"] and "unacknowledged" in routing[0]["text"]
    delivered = client.get(f"/v1/mmm/decisions/{third.pk}/explanation").json()["delivered"]
    assert delivered[0]["route_reason"] == "routing.escalated"


def test_feedback_acknowledges_too(client_for, django_capture_on_commit_callbacks):
    publish_playbook(_playbook("escalating", routing=ESCALATING))
    first = _decide("f1")
    _decide("f2", now=NOON + timedelta(minutes=1))
    client = client_for(actor_id="actor-1")
    with django_capture_on_commit_callbacks(execute=True):
        url = f"/v1/mmm/actions/{first.actions.get().pk}/feedback"
        assert client.post(url, {"feedback": "helpful"}, format="json").status_code in (200, 201)
    assert _surfaces(_decide("f3", now=NOON + timedelta(minutes=2))) == [("ide", "ci")]


def test_escalation_is_per_repository():
    publish_playbook(_playbook("escalating", routing=ESCALATING))
    for n in range(2):
        _decide(f"r{n}", now=NOON + timedelta(minutes=n), repo="org/a")
    assert _surfaces(_decide("rb", now=NOON + timedelta(minutes=5), repo="org/b")) == [("ide", "ci")]
    assert _surfaces(_decide("ra", now=NOON + timedelta(minutes=6), repo="org/a")) == [("alert",)]


def test_no_escalation_where_policy_preferences_or_consent_do_not_allow_it():
    from preferences.models import TenantPolicy

    # given the alert surface disabled by the tenant's policy
    TenantPolicy.objects.filter(tenant_id="tenant-a").update(enabled_surfaces=["ide", "ci"])
    publish_playbook(_playbook("escalating", routing=ESCALATING))
    decisions = [_decide(f"p{n}", now=NOON + timedelta(minutes=n)) for n in range(4)]
    # then the actions keep their own route, and no escalation builds up meanwhile
    assert all(_surfaces(d) == [("ide", "ci")] for d in decisions)
    assert all(a.route_reason == "" for d in decisions for a in d.actions.all())
    TenantPolicy.objects.filter(tenant_id="tenant-a").update(enabled_surfaces=["ide", "ci", "alert"])
    generation_bump(namespace=TENANT_CONFIG, tenant_id="tenant-a")
    # and once the policy enables alert, the count starts from zero: two deliveries, then alert
    after = [_surfaces(_decide(f"a{n}", now=NOON + timedelta(minutes=10 + n))) for n in range(3)]
    assert after == [[("ide", "ci")], [("ide", "ci")], [("alert",)]]


def test_no_escalation_outside_the_actors_preferred_surfaces():
    ActorPreferencesFactory(actor_id="actor-1", preferred_surfaces=["ide"])
    publish_playbook(_playbook("escalating", routing=ESCALATING))
    decisions = [_decide(f"s{n}", now=NOON + timedelta(minutes=n)) for n in range(4)]
    assert all(_surfaces(d) == [("ide",)] for d in decisions)


def test_a_multiplier_is_never_escalated_its_mentor_is():
    publish_playbook(_playbook("escalating", actions=(MENTOR, MULTIPLIER), routing=ESCALATING))
    decisions = [_decide(f"m{n}", now=NOON + timedelta(minutes=n)) for n in range(3)]
    last = {a.type: (tuple(a.surfaces), a.route_reason) for a in decisions[-1].actions.all()}
    assert last["mentor"] == (("alert",), "routing.escalated")
    assert last["multiplier"][1] == "" and "alert" not in last["multiplier"][0]
    assert decisions[-1].actions.get(type="multiplier").requires_consent is True


def test_routing_rules_cost_no_extra_sql_on_the_decide_path(django_capture_on_commit_callbacks):
    # given playbooks with quiet hours, quotas and escalation (and a warm process)
    publish_playbook(
        _playbook(
            "routed",
            routing={**ESCALATING, "quiet_hours": {"start": "01:00", "end": "02:00"}},
            limits={"max_actions_per_day": 50, "max_actions_per_hour": 50},
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        _decide("warm")
    # when a decide delivers, escalates or not
    for n in range(3):
        with CaptureQueriesContext(connection) as queries:
            decision = _decide(f"hot-{n}", now=NOON + timedelta(minutes=n + 1))
        # then it costs the statements of any decide (lookup, write)
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
        assert len(statements) == DECIDE_STATEMENTS, "\n".join(s[:120] for s in statements)
        assert decision.actions.count() == 1


def test_forgetting_an_actor_deletes_their_escalation_counts(store):
    from decisions.engine.playbook_routing import escalation_key
    from decisions.fatigue_store import fatigue_store
    from mmm_project.privacy import actor_ref

    # given an escalation count for actor-1 (and one for dev-2)
    publish_playbook(_playbook("escalating", routing=ESCALATING))
    _decide("g1")
    playbook_id = str(Decision.objects.get().actions.get().playbook_version.playbook_id)
    keys = {
        actor: escalation_key(
            tenant_id="tenant-a", playbook_id=playbook_id, actor_id=actor, repo_id="org/app"
        )
        for actor in ("actor-1", "dev-2")
    }
    fatigue_store().escalate(keys["dev-2"], after=1, now=NOON.timestamp())
    fatigue_store().escalate(keys["actor-1"], after=2, now=NOON.timestamp())
    assert fatigue_store().escalate(keys["actor-1"], after=2, now=NOON.timestamp(), check_only=True)
    # when actor-1's fatigue state is forgotten (actor deletion)
    assert fatigue_store().forget(tenant_id="tenant-a", actor_ref=actor_ref("tenant-a", "actor-1")) >= 1
    # then their count is gone, dev-2's is not
    assert not fatigue_store().escalate(keys["actor-1"], after=2, now=NOON.timestamp(), check_only=True)
    assert fatigue_store().escalate(keys["dev-2"], after=1, now=NOON.timestamp(), check_only=True)


def test_a_decision_with_several_actions_of_the_playbook_counts_once_and_routes_them_alike():
    publish_playbook(_playbook("escalating", actions=(MIRROR, MENTOR), routing=ESCALATING))
    decisions = [_decide(f"two{n}", now=NOON + timedelta(minutes=n)) for n in range(4)]
    routes = [sorted((a.type, a.route_reason) for a in d.actions.all()) for d in decisions]
    plain = [("mentor", ""), ("mirror", "")]
    escalated = [("mentor", "routing.escalated"), ("mirror", "routing.escalated")]
    assert routes == [plain, plain, escalated, plain]
