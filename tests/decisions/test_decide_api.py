"""POST /v1/mmm/decide end to end (spec 11.1, FR-1..FR-8, FR-14, FM-MMM-01/02, ST-MMM-02)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from decisions.models import Action, Decision, Signal
from decisions.services import persist
from decisions.services.decide import decision_create
from mmm_project.auth.principal import Principal
from playbooks.services import playbook_deprecate, playbook_update
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER
from tests.factories import ActorPreferencesFactory, TenantPolicyFactory, mirror_playbook, publish_playbook

pytestmark = pytest.mark.django_db

DECIDE = "/v1/mmm/decide"
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def body(**overrides):
    data = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app", "branch": "main", "file_path": "src/app.py"},
        "signal": {
            "signal_id": "sig-1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


@pytest.fixture(autouse=True)
def _daytime_policy():
    # Quiet hours off by default here; the quiet-hours tests set their own.
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)


@pytest.fixture
def client(client_for):
    return client_for(tenant_id="tenant-a", actor_id="actor-1", roles=["developer"])


def _rows() -> tuple[int, int, int]:
    return Signal.objects.count(), Decision.objects.count(), Action.objects.count()


def test_decide_returns_the_spec_shape_and_persists_everything(client):
    publish_playbook(
        {"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR, MULTIPLIER]}
    )
    response = client.post(DECIDE, body(), format="json")
    assert response.status_code == 200, response.content
    decision = response.json()["decision"]
    assert set(decision) == {
        "decision_id",
        "tenant_id",
        "actor_id",
        "actor_type",
        "actions",
        "created_at",
        "policy_snapshot_id",
        "degraded_mode",
        "policy_stale",
        "latency_warning",
    }
    assert (decision["tenant_id"], decision["actor_id"], decision["actor_type"]) == (
        "tenant-a",
        "actor-1",
        "human",
    )
    assert decision["policy_snapshot_id"].startswith("local-")
    assert decision["degraded_mode"] is False and decision["policy_stale"] is False
    assert [a["type"] for a in decision["actions"]] == ["mirror", "mentor", "multiplier"]
    for action in decision["actions"]:
        assert set(action) == {
            "action_id",
            "type",
            "surfaces",
            "payload",
            "surface_payloads",
            "requires_consent",
            "requires_dual_channel",
            "status",
            "status_reason",
        }
        assert (action["status"], action["status_reason"]) == ("active", None)
        assert set(action["surface_payloads"]) == set(action["surfaces"])
        assert action["payload"]["evidence_links"] == ["sig-1"]
    assert decision["actions"][2]["requires_consent"] is True
    # stored: signal, decision (with its minimised context), actions pointing at the version used
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert stored.signal.signal_id == "sig-1"
    assert stored.context["context"] == {
        "repo_id": "org/app",
        "branch": "main",
        "file_path": "src/app.py",
        "environment": "",
    }
    assert stored.playbooks_fired[0]["playbook_version"] == 1
    assert {a.playbook_version.version for a in stored.actions.all()} == {1}


def test_repeated_signal_returns_the_first_decision_and_does_not_decide_twice(client):
    publish_playbook(mirror_playbook())
    first = client.post(DECIDE, body(), format="json")
    second = client.post(DECIDE, body(context={"branch": "other"}), format="json")
    assert second.status_code == 200
    assert second["Idempotent-Replay"] == "true"
    assert second.json() == first.json()
    assert _rows() == (1, 1, 1)


def test_no_matching_playbook_is_an_empty_decision(client):
    publish_playbook(mirror_playbook(event_type="deploy.failed"))
    decision = client.post(DECIDE, body(), format="json").json()["decision"]
    assert decision["actions"] == []
    assert Decision.objects.count() == 1


def test_only_published_versions_match(client):
    from playbooks.services import playbook_create

    playbook_create(tenant_id="tenant-a", document=mirror_playbook(name="draft"), actor_id="x")
    deprecated = publish_playbook(mirror_playbook(name="gone"))
    playbook_deprecate(playbook=deprecated, actor_id="x")
    assert client.post(DECIDE, body(), format="json").json()["decision"]["actions"] == []


def test_updating_a_published_playbook_keeps_old_decisions_on_the_old_version(client):
    playbook = publish_playbook(mirror_playbook(name="ci"))
    first = client.post(DECIDE, body(), format="json").json()["decision"]
    changed = mirror_playbook(name="ci")
    changed["actions"][0]["title"] = "Run failed on {{ context.branch }}"
    playbook = playbook_update(playbook=playbook, document=changed, actor_id="x")
    # not yet published: decisions still use version 1
    second = client.post(DECIDE, body(signal={"signal_id": "sig-2"}), format="json").json()["decision"]
    assert second["actions"][0]["payload"]["title"] == "CI failed on main"
    from playbooks.services import playbook_publish

    playbook_publish(playbook=playbook, actor_id="x")
    third = client.post(DECIDE, body(signal={"signal_id": "sig-3"}), format="json").json()["decision"]
    assert third["actions"][0]["payload"]["title"] == "Run failed on main"
    versions = {
        d: Action.objects.get(decision_id=d).playbook_version.version
        for d in (first["decision_id"], third["decision_id"])
    }
    assert versions == {first["decision_id"]: 1, third["decision_id"]: 2}


def test_fm_mmm_01_disabled_action_types_are_never_proposed_or_delivered(client, client_for):
    # given a tenant that disables Multiplier actions
    from preferences.models import TenantPolicy

    TenantPolicy.objects.filter(tenant_id="tenant-a").update(enabled_action_types=["mirror", "mentor"])
    publish_playbook(
        {"name": "all", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR, MULTIPLIER]}
    )
    # when deciding
    decision = client.post(DECIDE, body(), format="json").json()["decision"]
    # then no multiplier is proposed, stored, or offered to the IDE
    assert "multiplier" not in [a["type"] for a in decision["actions"]]
    assert not Action.objects.filter(type="multiplier").exists()
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert [s["reason"] for s in stored.suppressed_actions] == ["policy.action_type_disabled"]
    nudges = client.get("/v1/mmm/actors/actor-1/nudges?surface=ide").json()["nudges"]
    assert nudges and "multiplier" not in [n["type"] for n in nudges]


def test_fm_mmm_02_no_individual_performance_scoring(client):
    publish_playbook({"name": "all", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})
    response = client.post(DECIDE, body(), format="json")
    stored = Decision.objects.get(pk=response.json()["decision"]["decision_id"])
    texts = [
        response.content.decode(),
        json.dumps(stored.context),
        json.dumps(stored.suppressed_actions),
        json.dumps(stored.playbooks_fired),
    ]
    for text in texts:
        for word in ("score", "rank", "productivity", "performance", "percentile", "leaderboard"):
            assert word not in text.lower(), (word, text[:200])
    # the same situation gives another actor the same nudges: content does not depend on who
    other = Principal(actor_id="actor-2", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    request = body(signal={"signal_id": "sig-2"})
    request["signal"]["severity"] = "high"
    again = decision_create(principal=other, data=request)
    assert [a.payload["title"] for a in again.decision.actions.all()] == [
        a["payload"]["title"] for a in response.json()["decision"]["actions"]
    ]


def test_snoozed_actor_gets_no_actions_and_the_reason_is_kept(client):
    ActorPreferencesFactory(actor_id="actor-1", snooze_until=datetime.now(UTC) + timedelta(hours=2))
    publish_playbook(mirror_playbook())
    decision = client.post(DECIDE, body(), format="json").json()["decision"]
    assert decision["actions"] == []
    assert "suppressed_actions" not in decision
    stored = Decision.objects.get(pk=decision["decision_id"])
    assert stored.suppressed_actions[0]["reason"] == "actor.snoozed"


def test_preferred_surfaces_narrow_routing(client):
    ActorPreferencesFactory(actor_id="actor-1", preferred_surfaces=["ci"])
    publish_playbook(mirror_playbook())
    action = client.post(DECIDE, body(), format="json").json()["decision"]["actions"][0]
    assert action["surfaces"] == ["ci"]
    assert set(action["surface_payloads"]) == {"ci"}


def _decide_at(now, signal_id):
    principal = Principal(actor_id="actor-1", tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    request = body(signal={"signal_id": signal_id, "ts": now})
    return decision_create(principal=principal, data=request, now=now).decision


def test_quiet_hours_in_tenant_time_zone_across_midnight():
    from preferences.models import TenantPolicy

    TenantPolicy.objects.filter(tenant_id="tenant-a").update(
        quiet_hours_start=22, quiet_hours_end=6, timezone="Europe/Berlin"
    )
    publish_playbook(mirror_playbook())
    # 21:30 UTC is 22:30 in Berlin (winter): quiet; 23:30 UTC = 00:30 Berlin: quiet; 05:30 UTC = 06:30: not
    assert _decide_at(datetime(2026, 1, 10, 21, 30, tzinfo=UTC), "q1").actions.count() == 0
    assert _decide_at(datetime(2026, 1, 10, 23, 30, tzinfo=UTC), "q2").actions.count() == 0
    assert _decide_at(datetime(2026, 1, 11, 5, 30, tzinfo=UTC), "q3").actions.count() == 1
    reasons = [s["reason"] for d in Decision.objects.order_by("created_at")[:2] for s in d.suppressed_actions]
    assert reasons == ["fatigue.quiet_hours", "fatigue.quiet_hours"]


def test_quota_and_cooldown_reset_after_their_windows():
    from preferences.models import TenantPolicy

    TenantPolicy.objects.filter(tenant_id="tenant-a").update(max_actions_per_hour=2, cooldown_minutes=20)
    publish_playbook(mirror_playbook(name="a"))
    publish_playbook(mirror_playbook(name="b"))
    publish_playbook(mirror_playbook(name="c"))
    t = NOON
    first = _decide_at(t, "w1")
    assert first.actions.count() == 2  # a and b; the hour quota of 2 stops c
    assert [s["reason"] for s in first.suppressed_actions] == ["fatigue.quota_actor_hour"]
    # ten minutes later: a and b cool down, c still meets the full hour quota
    soon = _decide_at(t + timedelta(minutes=10), "w2")
    assert soon.actions.count() == 0
    assert sorted(s["reason"] for s in soon.suppressed_actions) == [
        "fatigue.cooldown",
        "fatigue.cooldown",
        "fatigue.quota_actor_hour",
    ]
    # next hour: the cool-downs (20 min) are over and the hour window is new
    later = _decide_at(t + timedelta(hours=1, minutes=5), "w3")
    assert later.actions.count() == 2
    assert [s["reason"] for s in later.suppressed_actions] == ["fatigue.quota_actor_hour"]


def test_cap_per_decision_keeps_the_highest_priority(client):
    from preferences.models import TenantPolicy

    TenantPolicy.objects.filter(tenant_id="tenant-a").update(max_actions_per_decision=1)
    low = {**MIRROR, "priority": 0.1, "title": "low"}
    high = {**MIRROR, "priority": 0.9, "title": "high"}
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [low, high]})
    actions = client.post(DECIDE, body(), format="json").json()["decision"]["actions"]
    assert [a["payload"]["title"] for a in actions] == ["high"]


def test_tenant_priority_settings_reorder_actions(client):
    from preferences.models import TenantPolicy

    TenantPolicy.objects.filter(tenant_id="tenant-a").update(priorities={"mentor": 2.0})
    publish_playbook({"name": "p", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})
    actions = client.post(DECIDE, body(), format="json").json()["decision"]["actions"]
    assert [a["type"] for a in actions] == ["mentor", "mirror"]


def test_body_tenant_must_be_the_tokens(client):
    response = client.post(DECIDE, body(tenant_id="tenant-b"), format="json")
    assert response.status_code == 403
    assert list(response.json()["error"]["fields"]) == ["tenant_id"]
    assert _rows() == (0, 0, 0)


def test_st_mmm_02_decide_requires_identity_and_scope(api_client, client_for):
    assert api_client.post(DECIDE, body(), format="json").status_code == 401
    read_only = client_for(scopes=["mmm.read"])
    response = read_only.post(DECIDE, body(), format="json")
    assert response.status_code == 403
    assert "mmm.decide" in response.json()["error"]["message"]
    assert _rows() == (0, 0, 0)


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"signal": {"source": "github", "event_type": "ci.x"}}, "tenant_id"),
        (body(signal={"severity": 5}), "signal.severity"),
        (body(signal={"severity": "urgent"}), "signal.severity"),
        (body(context={"roles": "admin"}), "context.roles"),
        (body(actor_type="robot"), "actor_type"),
        (body(signal={"ts": "yesterday"}), "signal.ts"),
        (body(signal={"colour": "red"}), "signal.colour"),
        (body(signal={"event_type": "has spaces"}), "signal.event_type"),
        (body(signal={"payload": {"blob": "x" * 70_000}}), "signal.payload"),
        (body(signal={"payload": {"blob": "x" * 1_048_576}}), "body"),
        (body(context={"environment": ["prod"]}), "context.environment"),
        ({**body(), "extra": 1}, "extra"),
        ({"tenant_id": "tenant-a"}, "signal"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field_and_write_nothing(client, request_body, field):
    publish_playbook(mirror_playbook())
    response = client.post(DECIDE, request_body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert _rows() == (0, 0, 0)


def test_malformed_json_is_400(client):
    response = client.generic("POST", DECIDE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_REQUEST"


def test_unknown_fields_at_several_levels_are_all_reported(client):
    response = client.post(DECIDE, {**body(signal={"colour": "red"}), "extra": 1}, format="json")
    assert {"extra", "signal.colour"} <= set(response.json()["error"]["fields"])


def test_severity_aliases_are_normalised(client):
    publish_playbook(mirror_playbook())
    client.post(DECIDE, body(signal={"severity": "warning"}), format="json")
    assert Signal.objects.get().severity == "medium"


def test_severity_outside_the_documented_enum_is_refused(client):
    response = client.post(DECIDE, body(signal={"severity": "Warning"}), format="json")
    assert response.status_code == 400
    assert "signal.severity" in response.json()["error"]["fields"]
    assert not Signal.objects.exists()


def test_decision_signal_and_actions_are_written_in_one_transaction(client, monkeypatch):
    publish_playbook(mirror_playbook())

    # the database refuses the last row written (the receipt) after the signal, decision and actions
    prepare = persist.receipt_prepare

    def refused(**kwargs):
        receipt = prepare(**kwargs)
        receipt.tenant_id = None  # NOT NULL
        return receipt

    monkeypatch.setattr(persist, "receipt_prepare", refused)
    response = client.post(DECIDE, body(), format="json")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert _rows() == (0, 0, 0)


def test_roles_from_the_request_context_drive_role_triggers(client):
    publish_playbook(mirror_playbook(name="sre", triggers=[{"event_type": "ci.*", "actor_roles": ["sre"]}]))
    assert client.post(DECIDE, body(), format="json").json()["decision"]["actions"] == []
    as_sre = body(signal={"signal_id": "sig-2"}, context={"roles": ["sre"]})
    assert len(client.post(DECIDE, as_sre, format="json").json()["decision"]["actions"]) == 1


def test_minimum_severity_trigger(client):
    publish_playbook(mirror_playbook(triggers=[{"event_type": "ci.*", "min_severity": "high"}]))
    low = client.post(DECIDE, body(signal={"severity": "low"}), format="json").json()["decision"]
    critical = client.post(DECIDE, body(signal={"signal_id": "s2", "severity": "critical"}), format="json")
    assert low["actions"] == []
    assert len(critical.json()["decision"]["actions"]) == 1


def test_the_tokens_actor_type_wins_over_the_body(client_for):
    # given an AI agent's token
    agent = client_for(tenant_id="tenant-a", actor_id="bot-1", actor_type="ai_agent")
    # when it decides for itself claiming to be human
    refused = agent.post(DECIDE, body(actor_type="human"), format="json")
    # then it is refused naming the field, and nothing is written
    assert refused.status_code == 403
    assert refused.json()["error"]["fields"] == {
        "actor_type": ["must be the token's actor_type when deciding for yourself"]
    }
    assert _rows() == (0, 0, 0)
    # repeating its own type, or saying nothing, records the token's
    assert agent.post(DECIDE, body(actor_type="ai_agent"), format="json").json()["decision"][
        "actor_type"
    ] == ("ai_agent")
    again = agent.post(
        DECIDE, body(signal={"signal_id": "sig-2", "source": "github", "event_type": "ci.x"}), format="json"
    )
    assert again.json()["decision"]["actor_type"] == "ai_agent"
    # deciding for another actor, the body describes that actor
    other = agent.post(
        DECIDE,
        body(
            actor_id="dev-9",
            actor_type="human",
            signal={"signal_id": "sig-3", "source": "github", "event_type": "ci.x"},
        ),
        format="json",
    )
    assert (other.status_code, other.json()["decision"]["actor_type"]) == (200, "human")
