"""Backtests (issue 15): the API, its admin-only and tenant rules, the report, nothing written."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from decisions.backtest.services import backtest_run
from decisions.fatigue_store import _local_store
from decisions.models import Action, Decision, Signal
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

DRAFT = {
    "name": "ci-draft",
    "triggers": [{"event_type": "ci.check_run.failed"}],
    "conditions": ['context.branch == "main"'],
    "actions": [MIRROR, MENTOR],
}


@pytest.fixture
def history(client_for):
    """Published 'ci' (one Mirror), a draft 'ci-draft' (Mirror and Mentor), and 6 stored signals:
    actor-1 gets 4 failures on main (repos r0..r3), dev-2 one on main and one on a branch."""
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, max_actions_per_hour=3)
    published = publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    draft = admin.post("/v1/mmm/playbooks", DRAFT, format="json").json()
    for n, (actor, branch) in enumerate(
        [("actor-1", "main")] * 4 + [("dev-2", "main"), ("dev-2", "feature")]
    ):
        body = {
            "tenant_id": "tenant-a",
            "actor_id": actor,
            "context": {"branch": branch, "repo_id": f"org/r{n}"},
            "signal": {"signal_id": f"s{n}", "source": "github", "event_type": "ci.check_run.failed"},
        }
        assert client_for(actor_id=actor).post("/v1/mmm/decide", body, format="json").status_code == 200
    return admin, published, draft


def _fatigue_keys() -> int:
    """How many fatigue counters and cool-downs the shared store holds (Redis or in-process)."""
    if settings.REDIS_URL:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        return sum(1 for _ in redis.scan_iter(match="mmm:fatigue:*")) + sum(
            1 for _ in redis.scan_iter(match="mmm:cooldown:*")
        )
    return len(_local_store._values)


def _backtest(client, playbook_id, **body):
    return client.post(f"/v1/mmm/playbooks/{playbook_id}/backtest", body, format="json")


def test_backtest_of_a_draft_reports_per_day_per_actor_busiest_and_overlap(history):
    admin, published, draft = history
    written = (
        Signal.objects.count(),
        Decision.objects.count(),
        Action.objects.count(),
        Receipt.objects.count(),
    )
    counters = _fatigue_keys()
    assert counters > 0
    # when the draft is backtested
    started = _backtest(admin, draft["playbook_id"], days=7)
    assert started.status_code == 202
    state = admin.get(f"/v1/mmm/backtests/{started.json()['backtest_id']}").json()
    # then the report says what the draft would have done next to the published playbook
    assert (state["status"], state["version"], state["window"]["days"]) == ("succeeded", 1, 7)
    assert state["progress"] == {"done": 6, "total": 6}
    result = state["result"]
    assert result["signals"] == {"replayed": 6, "fitting": 6, "matched": 5}
    # actor-1: 4 signals x (ci mirror + draft mirror + draft mentor), 3 an hour: the 3 first
    # actions of the first signal, then the hourly quota; dev-2: 3 actions on main
    assert result["all_playbooks"]["delivered"] == 6
    assert result["playbook"]["delivered"] == 4
    assert result["playbook"]["delivered_by_type"] == {"mentor": 2, "mirror": 2}
    assert result["playbook"]["suppressed_by_reason"] == {"fatigue.quota_actor_hour": 6}
    [day] = result["per_day"]
    assert (day["delivered"], day["suppressed"]) == (4, 6)
    busiest = result["busiest_actors"]
    assert [(a["delivered"], a["suppressed"]) for a in busiest] == [(2, 6), (2, 0)]
    assert all(a["actor"].startswith("actor-") and a["actor"] not in ("actor-1", "dev-2") for a in busiest)
    assert '"actor-1"' not in json.dumps(result) and '"dev-2"' not in json.dumps(result)
    assert result["overlap"] == [{"playbook_id": str(published.id), "name": "ci", "signals_both_matched": 5}]
    # and nothing was written: no signal, decision, action, receipt; fatigue counters untouched
    assert (
        Signal.objects.count(),
        Decision.objects.count(),
        Action.objects.count(),
        Receipt.objects.count(),
    ) == (written)
    assert _fatigue_keys() == counters


def test_backtest_honours_the_actors_current_preferences(history, client_for):
    admin, _, draft = history
    client_for(actor_id="dev-2").put(
        "/v1/mmm/actors/dev-2/preferences", {"opt_out_categories": ["mentor"]}, format="json"
    )
    result = _backtest(admin, draft["playbook_id"]).json()["result"]
    assert result["playbook"]["suppressed_by_reason"] == {
        "actor.opted_out": 1,
        "fatigue.quota_actor_hour": 6,
    }


def test_backtest_is_for_admins_of_the_tenant_only(history, client_for):
    admin, _, draft = history
    url_id = draft["playbook_id"]
    refused = _backtest(client_for(actor_id="actor-1"), url_id)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
    other_admin = client_for(tenant_id="tenant-b", actor_id="lead", roles=["tenant_admin"])
    assert _backtest(other_admin, url_id).status_code == 404
    backtest_id = _backtest(admin, url_id).json()["backtest_id"]
    hidden = other_admin.get(f"/v1/mmm/backtests/{backtest_id}")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert client_for(actor_id="actor-1").get(f"/v1/mmm/backtests/{backtest_id}").status_code == 403
    assert admin.get("/v1/mmm/backtests/unknown").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"), [({"days": 0}, "days"), ({"days": 31}, "days"), ({"version": 9}, "version")]
)
def test_bad_backtest_requests_are_400_naming_the_field(history, body, field):
    admin, _, draft = history
    response = _backtest(admin, draft["playbook_id"], **body)
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, [field])


def test_a_backtest_runs_once(history):
    admin, _, draft = history
    backtest_id = _backtest(admin, draft["playbook_id"]).json()["backtest_id"]
    assert backtest_run(backtest_id=backtest_id) == "skipped"  # already ran: a redelivery does nothing
    assert backtest_run(backtest_id="gone") == "skipped"


def test_backtest_playbook_command_prints_the_report(history):
    out = StringIO()
    call_command("backtest_playbook", "ci-draft", "--tenant", "tenant-a", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["name"], report["playbook"]["delivered"]) == ("ci-draft", 4)
    text = StringIO()
    call_command("backtest_playbook", "ci-draft", "--tenant", "tenant-a", "--days", "3", stdout=text)
    assert "this playbook: 4 delivered, 6 suppressed" in text.getvalue()
