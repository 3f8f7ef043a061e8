"""Per-playbook routing through the playbook API and ``load_playbooks`` (FR-3, spec 11.2): stored,
shown, receipted, documented in OpenAPI; bad values refused with 400 naming the field, nothing written."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from playbooks.models import Playbook, PlaybookVersion
from receipts.models import Receipt
from tests.engine.helpers import MIRROR

pytestmark = pytest.mark.django_db

ROUTING = {
    "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"},
    "escalation": {"after_unacknowledged": 3, "surface": "alert"},
}
LIMITS = {"cooldown_minutes": 30, "max_actions_per_hour": 1, "max_actions_per_day": 3}


@pytest.fixture
def admin(client_for):
    return client_for(actor_id="lead", roles=["tenant_admin"])


def _document(**extra) -> dict:
    return {"name": "routed", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR], **extra}


def test_routing_and_limits_are_stored_shown_published_and_receipted(admin):
    created = admin.post("/v1/mmm/playbooks", _document(routing=ROUTING, limits=LIMITS), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["routing"], body["limits"]) == (ROUTING, LIMITS)
    published = admin.post(f"/v1/mmm/playbooks/{body['playbook_id']}/publish", format="json")
    assert published.status_code == 200, published.json()
    assert PlaybookVersion.objects.get().routing == ROUTING
    assert admin.get(f"/v1/mmm/playbooks/{body['playbook_id']}").json()["routing"] == ROUTING
    # the admin receipt of the change records the routing rules
    after = [r.payload["after"] for r in Receipt.objects.filter(kind="admin_config").order_by("created_at")]
    assert after[0]["routing"] == ROUTING and after[-1]["limits"] == LIMITS


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"routing": {"quiet_hours": {"start": "25:00", "end": "07:00"}}}, "routing.quiet_hours.start"),
        ({"routing": {"quiet_hours": {"start": "22:00"}}}, "routing.quiet_hours.end"),
        (
            {"routing": {"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Nowhere/City"}}},
            "routing.quiet_hours.timezone",
        ),
        ({"routing": {"escalation": {"after_unacknowledged": 0}}}, "routing.escalation.after_unacknowledged"),
        (
            {"routing": {"escalation": {"after_unacknowledged": 2, "surface": "ide"}}},
            "routing.escalation.surface",
        ),
        ({"routing": {"channels": ["x"]}}, "routing.channels"),
        ({"routing": []}, "routing"),
        ({"limits": {"max_actions_per_day": -1}}, "limits.max_actions_per_day"),
        ({"limits": {"max_actions_per_hour": "2"}}, "limits.max_actions_per_hour"),
    ],
)
def test_bad_routing_is_refused_with_400_naming_the_field_and_nothing_written(admin, extra, field):
    response = admin.post("/v1/mmm/playbooks", _document(**extra), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and list(error["fields"]) == [field]
    assert Playbook.objects.count() == 0 and Receipt.objects.count() == 0


def test_an_update_with_bad_routing_is_refused_and_the_published_version_stays(admin):
    playbook_id = admin.post("/v1/mmm/playbooks", _document(routing=ROUTING), format="json").json()[
        "playbook_id"
    ]
    admin.post(f"/v1/mmm/playbooks/{playbook_id}/publish", format="json")
    bad = {"routing": {"escalation": {"after_unacknowledged": 1000}}}
    response = admin.put(f"/v1/mmm/playbooks/{playbook_id}", bad, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["routing.escalation.after_unacknowledged"]
    playbook = Playbook.objects.get()
    assert (playbook.latest_version, playbook.published_version.routing) == (1, ROUTING)


def test_load_playbooks_reports_each_routing_problem_with_file_and_field(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "name: bad\ntriggers: [{event_type: ci.x}]\n"
        "actions: [{type: mirror, surfaces: [ide], title: t, body: b}]\n"
        "routing: {quiet_hours: {start: '22:00', end: '7'}, escalation: {after_unacknowledged: 0}}\n"
        "limits: {max_actions_per_day: 0}\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("load_playbooks", str(tmp_path), "--tenant", "acme", stderr=err)
    lines = err.getvalue().splitlines()
    prefix = f"{tmp_path / 'bad.yaml'}: bad: "
    for field in (
        "routing.quiet_hours.end",
        "routing.escalation.after_unacknowledged",
        "limits.max_actions_per_day",
    ):
        assert any(line.startswith(prefix + field + ":") for line in lines), (field, lines)
    assert Playbook.objects.count() == 0


def test_the_openapi_document_describes_routing_and_limits(api_client):
    document = api_client.get("/v1/mmm/openapi.json").json()
    schemas = document["components"]["schemas"]
    routing = schemas["PlaybookRoutingRequest"]["properties"]
    assert set(routing) == {"quiet_hours", "escalation"}
    assert set(schemas["PlaybookQuietHoursRequest"]["properties"]) == {"start", "end", "timezone"}
    assert set(schemas["PlaybookEscalationRequest"]["properties"]) == {"after_unacknowledged", "surface"}
    assert set(schemas["PlaybookLimitsRequest"]["properties"]) == {
        "cooldown_minutes",
        "max_actions_per_hour",
        "max_actions_per_day",
    }
    assert schemas["PlaybookQuietHoursRequest"]["properties"]["start"]["pattern"]
    assert "routing" in schemas["PlaybookOutput"]["properties"]
    assert schemas["PlaybookDocumentRequest"]["properties"]["routing"]["$ref"].endswith(
        "PlaybookRoutingRequest"
    )
