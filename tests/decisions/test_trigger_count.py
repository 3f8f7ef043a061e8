"""Only after N in M (issue 15): a trigger with ``count: 3, window_minutes: 30`` fires from the 3rd
fitting signal of the same repository (any actor of the tenant) in 30 minutes, on ``decide``, on a
worker's decision of a stored signal and in ``triggers/evaluate``, with no extra SQL statement."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from decisions.models import Decision
from decisions.services.decide import signal_decide
from playbooks.models import Playbook
from tests.decisions.test_decide_hot_path import DECIDE_STATEMENTS, _statements
from tests.factories import SignalFactory, TenantPolicyFactory, mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db

THIRD_IN_30 = {"event_type": "ci.check_run.failed", "count": 3, "window_minutes": 30}


@pytest.fixture
def playbook():
    for tenant in ("tenant-a", "tenant-b"):
        TenantPolicyFactory(
            tenant_id=tenant,
            quiet_hours_start=0,
            quiet_hours_end=0,
            cooldown_minutes=0,
            max_actions_per_hour=100,
            max_actions_per_day=100,
            max_actions_per_repo_per_day=100,
        )
    publish_playbook(mirror_playbook(name="ci-failing-again", triggers=[THIRD_IN_30]), tenant_id="tenant-b")
    return publish_playbook(mirror_playbook(name="ci-failing-again", triggers=[THIRD_IN_30]))


def _body(signal_id, minutes_ago, *, repo="org/a", event_type="ci.check_run.failed", tenant="tenant-a"):
    ts = timezone.now() - timedelta(minutes=minutes_ago)
    return {
        "tenant_id": tenant,
        "context": {"repo_id": repo, "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": event_type,
            "severity": "high",
            "ts": ts.isoformat(),
        },
    }


def _decide(client, *args, **kwargs) -> dict:
    response = client.post("/v1/mmm/decide", _body(*args, **kwargs), format="json")
    assert response.status_code == 200, response.content
    return response.json()["decision"]


def test_the_third_failure_of_a_repository_in_30_minutes_fires_whoever_the_actors(playbook, client_for):
    dev1, dev2 = client_for(actor_id="dev-1"), client_for(actor_id="dev-2")
    # given two failures on org/a by two developers, and signals that must not count
    assert _decide(dev1, "a-1", 25)["actions"] == []
    assert _decide(dev2, "b-1", 20, repo="org/b")["actions"] == []  # another repository
    assert _decide(dev2, "a-ok", 15, event_type="ci.check_run.succeeded")["actions"] == []  # not fitting
    other_tenant = client_for(tenant_id="tenant-b", actor_id="dev-9")
    assert _decide(other_tenant, "t-1", 12, tenant="tenant-b")["actions"] == []  # tenant-b's own count
    assert _decide(dev2, "a-2", 10)["actions"] == []
    # when the third failure of org/a arrives
    third = _decide(dev1, "a-3", 0)
    # then it fires, and the decision records the count
    assert [a["type"] for a in third["actions"]] == ["mirror"]
    fired = Decision.objects.get(pk=third["decision_id"]).playbooks_fired
    assert fired == [
        {
            "playbook_id": str(playbook.id),
            "playbook_version": 1,
            "trigger_count": {
                "count": 3,
                "needed": 3,
                "beyond": False,
                "window_minutes": 30,
                "event_type": "ci.check_run.failed",
                "source": "*",
            },
        }
    ]
    # and the next one fires too (the cool-down is what spaces them), as a later one
    fourth = Decision.objects.get(pk=_decide(dev2, "a-4", 0)["decision_id"])
    assert fourth.playbooks_fired[0]["trigger_count"]["beyond"] is True
    # while tenant-b, with two failures of its own org/a, has not reached its count
    assert _decide(other_tenant, "t-2", 0, tenant="tenant-b")["actions"] == []


def test_failures_older_than_the_window_are_not_counted(playbook, client_for):
    dev = client_for(actor_id="dev-1")
    assert _decide(dev, "old-1", 50)["actions"] == []
    assert _decide(dev, "old-2", 40)["actions"] == []
    assert _decide(dev, "new-1", 0)["actions"] == []  # 40 and 50 minutes ago: outside 30
    assert _decide(dev, "new-2", 0)["actions"] == []
    assert [a["type"] for a in _decide(dev, "new-3", 0)["actions"]] == ["mirror"]


def test_a_count_playbook_adds_no_statement_to_a_decide(
    playbook, client_for, django_capture_on_commit_callbacks
):
    # given a warm process (caches filled by decisions that fired) and earlier failures
    dev = client_for(actor_id="dev-1")
    with django_capture_on_commit_callbacks(execute=True):
        for minutes in (6, 5, 4):
            _decide(dev, f"warm-{minutes}", minutes)
    # when the next failure decides
    with CaptureQueriesContext(connection) as queries:
        decision = _decide(dev, "hot-4", 0)
    # then it fired with the same statements as any decide: one lookup, then the write
    statements = _statements(queries)
    assert [a["type"] for a in decision["actions"]] == ["mirror"]
    assert len(statements) == DECIDE_STATEMENTS, "\n".join(s[:120] for s in statements)
    assert not any("INSERT" in s for s in statements[:1])
    assert statements[0].count("UNION ALL") == 2  # this signal, recent signals, one count branch


def test_without_a_count_playbook_the_lookup_is_unchanged(client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook(mirror_playbook(name="plain"))
    dev = client_for(actor_id="dev-1")
    _decide(dev, "warm", 1)
    with CaptureQueriesContext(connection) as queries:
        _decide(dev, "plain-1", 0)
    lookup = _statements(queries)[0]
    assert lookup.count("UNION ALL") == 1 and "repo_id" not in lookup


def test_a_worker_decision_of_stored_signals_counts_the_same(playbook):
    now = timezone.now()
    for minutes, signal_id in ((20, "w-1"), (10, "w-2")):
        SignalFactory(
            signal_id=signal_id,
            ts=now - timedelta(minutes=minutes),
            context={"repo_id": "org/a"},
            status="decided",
        )
    SignalFactory(
        signal_id="w-failed", ts=now - timedelta(minutes=5), context={"repo_id": "org/a"}, status="failed"
    )
    third = SignalFactory(signal_id="w-3", ts=now, context={"repo_id": "org/a"})
    assert signal_decide(signal_pk=str(third.pk), now=now) == "decided"
    assert Decision.objects.get(signal=third).actions.count() == 1
    # w-1 and w-2 are out of w-4's window, the failed one does not count: w-3 and w-4 are 2 of 3
    fourth = SignalFactory(signal_id="w-4", ts=now + timedelta(minutes=21), context={"repo_id": "org/a"})
    signal_decide(signal_pk=str(fourth.pk), now=now)
    assert Decision.objects.get(signal=fourth).actions.count() == 0


def test_triggers_evaluate_reports_the_count_seen_and_needed(playbook, client_for):
    dev = client_for(actor_id="dev-1")
    _decide(dev, "e-1", 10)
    response = dev.post("/v1/mmm/triggers/evaluate", _body("e-2", 0), format="json")
    assert response.status_code == 200, response.content
    (entry,) = response.json()["playbooks_not_fired"]
    assert entry["trigger_count"]["count"] == 2 and entry["trigger_count"]["needed"] == 3
    assert entry["reason"] == "trigger count: 2 of 3 fitting signals on this repository within 30 minutes"
    assert entry["trigger_count"]["text"].startswith("Only 2 of the 3 'ci.check_run.failed' signals")
    # one more stored failure and it would fire
    _decide(dev, "e-3", 5)
    (entry,) = dev.post("/v1/mmm/triggers/evaluate", _body("e-4", 0), format="json").json()["playbooks_fired"]
    assert entry["trigger_count"]["count"] == 3 and entry["reason"] is None


def test_the_explanation_says_which_failure_this_is(playbook, client_for):
    dev = client_for(actor_id="dev-1")
    _decide(dev, "x-1", 20)
    _decide(dev, "x-2", 10)
    action_id = _decide(dev, "x-3", 0)["actions"][0]["action_id"]
    body = dev.get(f"/v1/mmm/actions/{action_id}/explanation").json()
    sentence = (
        "This is the 3rd 'ci.check_run.failed' signal on this repository within 30 minutes: "
        "the playbook waits for 3."
    )
    assert body["playbook"]["trigger_count"]["text"] == sentence
    assert body["playbook"]["text"].endswith(sentence)
    # another tenant's admin cannot read it
    other = client_for(tenant_id="tenant-b", actor_id="admin-b", roles=["tenant_admin"])
    assert other.get(f"/v1/mmm/actions/{action_id}/explanation").status_code == 404


@pytest.mark.parametrize(
    ("trigger", "field"),
    [
        ({"count": 0, "window_minutes": 30}, "triggers[0].count"),
        ({"count": 3, "window_minutes": 100000}, "triggers[0].window_minutes"),
        ({"window_minutes": 30}, "triggers[0].window_minutes"),
    ],
)
def test_the_playbook_api_refuses_bad_counts_naming_the_field(client_for, trigger, field):
    admin = client_for(actor_id="lead-1", roles=["tenant_admin"])
    document = mirror_playbook(triggers=[{"event_type": "ci.check_run.failed", **trigger}])
    response = admin.post("/v1/mmm/playbooks", document, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Playbook.objects.count() == 0


def test_load_playbooks_reports_a_bad_count(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "name: p\ntriggers: [{event_type: ci.x, count: 3}]\n"
        "actions: [{type: mirror, surfaces: [ide], title: t, body: b}]\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_playbooks", str(tmp_path), "--tenant", "acme", stderr=err)
    assert f"{tmp_path / 'p.yaml'}: p: triggers[0].window_minutes: is required with count" in err.getvalue()
    assert Playbook.objects.count() == 0


def test_the_openapi_document_describes_counts():
    from rest_framework.test import APIClient

    schemas = APIClient().get("/v1/mmm/openapi.json").json()["components"]["schemas"]
    trigger = schemas["PlaybookTrigger"]["properties"]
    assert (trigger["count"]["minimum"], trigger["count"]["maximum"]) == (1, 50)
    assert trigger["window_minutes"]["maximum"] == 1440
    assert "trigger_count" in schemas["TriggerPlaybook"]["properties"]
    assert "trigger_count" in schemas["ExplainedPlaybook"]["properties"]


def test_a_dry_run_of_a_draft_counts_the_stored_signals(playbook, client_for):
    dev = client_for(actor_id="dev-1")
    _decide(dev, "d-1", 10)
    admin = client_for(actor_id="lead-1", roles=["tenant_admin"])
    draft = mirror_playbook(
        name="second", triggers=[{"event_type": "ci.*", "count": 2, "window_minutes": 30}]
    )
    body = {**_body("d-2", 0), "playbook": draft}
    body.pop("tenant_id")
    (entry,) = admin.post("/v1/mmm/playbooks/dry-run", body, format="json").json()["results"]
    assert entry["matched"] is True  # d-1 and this one
    draft["triggers"][0]["count"] = 3
    (entry,) = admin.post("/v1/mmm/playbooks/dry-run", body, format="json").json()["results"]
    assert entry["matched"] is False
    assert entry["reason"] == "the actor's roles, trigger count or conditions do not hold"
