"""Playbook admin API (spec 11.2, FR-13, ST-MMM-01): lifecycle, publish errors, dry run."""

from __future__ import annotations

import pytest

from decisions.models import Action, Decision, Signal
from playbooks.models import Playbook, PlaybookVersion
from receipts.models import Receipt
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, mirror_playbook

pytestmark = pytest.mark.django_db

BASE = "/v1/mmm/playbooks"


@pytest.fixture
def admin(client_for):
    return client_for(actor_id="lead-1", roles=["tenant_admin"])


def _create(admin, document=None):
    response = admin.post(BASE, document or mirror_playbook(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", BASE),
        ("put", BASE + "/{id}"),
        ("post", BASE + "/{id}/publish"),
        ("delete", BASE + "/{id}"),
        ("post", BASE + "/dry-run"),
    ],
)
def test_st_mmm_01_only_admin_roles_change_playbooks(admin, client_for, api_client, method, path):
    playbook = _create(admin)
    url = path.format(id=playbook["playbook_id"])
    body = {"playbook": mirror_playbook(), "signal": {"source": "github", "event_type": "x"}}
    # no token: 401; every scope but no admin role: 403
    assert getattr(api_client, method)(url, body, format="json").status_code == 401
    developer = client_for(actor_id="dev-1", roles=["developer"])
    response = getattr(developer, method)(url, body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert Playbook.objects.get().status == "draft"
    # mmm_admin is an admin role too
    assert client_for(roles=["mmm_admin"]).get(url if "{id}" in path else BASE).status_code in (200, 405)


def test_reading_needs_the_read_scope(admin, client_for):
    _create(admin)
    assert client_for(scopes=["mmm.read"]).get(BASE).status_code == 200
    assert client_for(scopes=["mmm.decide"]).get(BASE).status_code == 403


def test_lifecycle_create_update_publish_deprecate(admin):
    created = _create(admin)
    assert (created["status"], created["version"], created["published_version"]) == ("draft", 1, None)
    assert created["problems"] == []
    url = f"{BASE}/{created['playbook_id']}"
    published = admin.post(url + "/publish").json()
    assert (published["status"], published["published_version"]) == ("published", 1)
    # update: a new version, the published one stays live until published again
    updated = admin.put(url, {"description": "now with more context", "version": 9}, format="json").json()
    assert (updated["version"], updated["published_version"], updated["description"]) == (
        2,
        1,
        "now with more context",
    )
    assert updated["triggers"] == created["triggers"]  # omitted fields keep their value
    assert PlaybookVersion.objects.filter(playbook_id=created["playbook_id"]).count() == 2
    assert admin.post(url + "/publish").json()["published_version"] == 2
    assert admin.delete(url).status_code == 204
    assert admin.get(url).json()["status"] == "deprecated"
    assert admin.post(url + "/publish").status_code == 409
    operations = [r.payload["inputs"]["operation"] for r in Receipt.objects.order_by("created_at")]
    assert operations == ["create", "publish", "update", "publish", "deprecate"]


def test_publish_of_an_invalid_playbook_lists_every_error(admin):
    draft = {
        "name": "half-done",
        "triggers": [{"event_type": "ci.*"}],
        "conditions": ["signal.severity ==", "nope.x == 1"],
        "actions": [
            {**MIRROR, "title": "You should look at {{ context.branch }}"},
            {**MENTOR, "body": "{{ missing_name }}"},
        ],
    }
    created = _create(admin, draft)
    # the draft is saved, with the problems that stop it from publishing
    assert {p["field"] for p in created["problems"]} == {
        "conditions[0]",
        "conditions[1]",
        "actions[0].title",
        "actions[1].body",
    }
    response = admin.post(f"{BASE}/{created['playbook_id']}/publish")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert set(error["fields"]) == {"conditions[0]", "conditions[1]", "actions[0].title", "actions[1].body"}
    assert Playbook.objects.get().status == "draft"


def test_structural_problems_refuse_the_save(admin):
    response = admin.post(
        BASE, {"name": "x", "triggers": "ci", "actions": [], "colour": "red"}, format="json"
    )
    assert response.status_code == 400
    assert {"triggers", "actions", "colour"} <= set(response.json()["error"]["fields"])
    assert not Playbook.objects.exists()


def test_duplicate_name_is_409(admin):
    _create(admin)
    response = admin.post(BASE, mirror_playbook(), format="json")
    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_other_tenants_playbook_is_404_for_every_operation(admin, client_for):
    playbook = _create(client_for(tenant_id="tenant-b", roles=["tenant_admin"]))
    url = f"{BASE}/{playbook['playbook_id']}"
    assert admin.get(url).status_code == 404
    assert admin.put(url, {"description": "x"}, format="json").status_code == 404
    assert admin.post(url + "/publish").status_code == 404
    assert admin.delete(url).status_code == 404
    assert Playbook.objects.get().status == "draft"


def test_dry_run_reports_actions_and_gates_and_writes_nothing(admin):
    TenantPolicyFactory(
        tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, enabled_action_types=["mirror"]
    )
    draft = {"name": "try-me", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]}
    before = (
        Signal.objects.count(),
        Decision.objects.count(),
        Action.objects.count(),
        Receipt.objects.count(),
    )
    body = {
        "playbook": draft,
        "context": {"branch": "main"},
        "signal": {"signal_id": "probe", "source": "github", "event_type": "ci.check_run.failed"},
    }
    result = admin.post(f"{BASE}/dry-run", body, format="json").json()
    entry = result["results"][0]
    assert entry["matched"] is True
    assert [a["type"] for a in entry["actions"]] == ["mirror"]
    assert entry["actions"][0]["payload"]["title"] == "CI failed on main"
    assert entry["suppressed"] == [
        {"type": "mentor", "action_index": 1, "reason": "policy.action_type_disabled"}
    ]
    after = (
        Signal.objects.count(),
        Decision.objects.count(),
        Action.objects.count(),
        Receipt.objects.count(),
    )
    assert after == before
    # the draft was not stored either
    assert not Playbook.objects.filter(name="try-me").exists()


def test_dry_run_explains_a_non_match_and_replays_stored_signals(admin, client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    client_for().post(
        "/v1/mmm/decide",
        {
            "tenant_id": "tenant-a",
            "context": {"branch": "release/1"},
            "signal": {"signal_id": "stored-1", "source": "github", "event_type": "ci.check_run.failed"},
        },
        format="json",
    )
    draft = {
        "name": "main-only",
        "triggers": [{"event_type": "ci.*"}],
        "conditions": ['context.branch == "main"'],
        "actions": [MIRROR],
    }
    result = admin.post(
        f"{BASE}/dry-run", {"playbook": draft, "signal_ids": ["stored-1"]}, format="json"
    ).json()
    assert result["results"][0]["matched"] is False
    other = admin.post(
        f"{BASE}/dry-run",
        {"playbook": {**draft, "triggers": [{"event_type": "deploy.*"}]}, "signal_ids": ["stored-1"]},
        format="json",
    ).json()
    assert "no trigger fits" in other["results"][0]["reason"]
    unknown = admin.post(f"{BASE}/dry-run", {"playbook": draft, "signal_ids": ["nope"]}, format="json")
    assert unknown.status_code == 400 and "signal_ids" in unknown.json()["error"]["fields"]
    both = admin.post(
        f"{BASE}/dry-run",
        {"playbook": draft, "signal_ids": ["stored-1"], "signal": {"source": "x", "event_type": "y"}},
        format="json",
    )
    assert both.status_code == 400


def test_publish_refuses_coercive_text_naming_field_and_category(admin):
    draft = {
        "name": "pushy",
        "triggers": [{"event_type": "ci.*"}],
        "actions": [MIRROR, {**MENTOR, "title": "Fix this immediately"}],
    }
    created = _create(admin, draft)
    assert created["problems"] == [
        {
            "field": "actions[1].title",
            "message": "urgency: 'immediately' (FR-10: action text must not frighten, hurry, blame or "
            "overstate)",
            "category": "urgency",
        }
    ]
    response = admin.post(f"{BASE}/{created['playbook_id']}/publish")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"actions[1].title": [created["problems"][0]["message"]]}
    assert Playbook.objects.get().status == "draft"
