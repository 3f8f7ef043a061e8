"""What the OpenAPI document promises is what the API enforces (the drift the fuzz suite found)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from playbooks.models import PlaybookVersion
from receipts.models import Receipt
from tests.factories import mirror_playbook

pytestmark = pytest.mark.django_db

OPENAPI = "/v1/mmm/openapi.json"


@pytest.fixture
def admin(client_for):
    return client_for(roles=["tenant_admin"])


@pytest.fixture
def document():
    return APIClient().get(OPENAPI).json()


def _request_schema(document, path, method):
    content = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    name = content["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]


def test_put_playbook_with_an_empty_body_is_400_and_writes_nothing(admin):
    # given a playbook with one version
    playbook_id = admin.post("/v1/mmm/playbooks", mirror_playbook(), format="json").json()["playbook_id"]
    receipts = Receipt.objects.count()
    # when it is PUT with an empty body
    response = admin.put(f"/v1/mmm/playbooks/{playbook_id}", {}, format="json")
    # then 400 names the body, and no version or receipt was added
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"body": ["give at least one playbook field to change"]}
    assert PlaybookVersion.objects.filter(playbook_id=playbook_id).count() == 1
    assert Receipt.objects.count() == receipts


@pytest.mark.parametrize(
    "query",
    [
        "/v1/mmm/actors/actor-1/nudges?surface=",
        "/v1/mmm/actors/actor-1/nudges?limit=",
        "/v1/mmm/actors/actor-1/nudges?surface=ide&surface=ci",
        "/v1/mmm/playbooks?status=",
        "/v1/mmm/experiments?status=",
        "/v1/mmm/experiments?tenant_id=",
        "/v1/mmm/receipts?kind=",
        "/v1/mmm/tenants/tenant-a/metrics?start_date=",
    ],
)
def test_empty_or_repeated_query_values_are_refused(admin, query):
    response = admin.get(query)
    assert response.status_code == 400
    name = query.split("?")[1].split("=")[0]
    assert name in response.json()["error"]["fields"]


def test_undeclared_query_parameters_are_ignored(admin):
    assert admin.get("/v1/mmm/playbooks?cache_buster=1").status_code == 200


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/v1/mmm/decide", "post"),
        ("/v1/mmm/tenants/{tenant_id}/policy", "put"),
        ("/v1/mmm/actors/{actor_id}/preferences", "put"),
        ("/v1/mmm/webhooks/endpoints", "post"),
        ("/v1/mmm/playbooks", "post"),
    ],
)
def test_strict_request_bodies_forbid_additional_properties(document, path, method):
    assert _request_schema(document, path, method)["additionalProperties"] is False


def test_cross_field_rules_are_in_the_document(document):
    snooze = _request_schema(document, "/v1/mmm/actors/{actor_id}/preferences/snooze", "post")
    assert snooze["oneOf"] == [{"required": ["duration_hours"]}, {"required": ["until"]}]
    dry_run = _request_schema(document, "/v1/mmm/playbooks/dry-run", "post")
    assert dry_run["oneOf"] == [{"required": ["signal"]}, {"required": ["signal_ids"]}]
    change = _request_schema(document, "/v1/mmm/playbooks/{playbook_id}", "put")
    assert (change["minProperties"], change.get("required")) == (1, None)


def test_severity_is_an_enum(document):
    severity = document["components"]["schemas"]["SignalInputRequest"]["properties"]["severity"]
    assert severity["allOf"] == [{"$ref": "#/components/schemas/SeverityEnum"}]
    enum = set(document["components"]["schemas"]["SeverityEnum"]["enum"])
    assert {"info", "low", "medium", "high", "critical", "warning"} <= enum


@pytest.mark.parametrize("path", ["/v1/mmm/webhooks/github", "/v1/mmm/webhooks/alertmanager"])
def test_webhooks_document_401_and_415(document, path):
    assert {"202", "401", "415"} <= set(document["paths"][path]["post"]["responses"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/v1/mmm/tenants/tenant-a/policy"),
        ("put", "/v1/mmm/actors/actor-1/preferences"),
        ("post", "/v1/mmm/receipts/verify"),
    ],
)
def test_an_empty_body_is_400_where_one_is_required(admin, method, path):
    receipts = Receipt.objects.count()
    response = getattr(admin, method)(path, data="", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]
    assert Receipt.objects.count() == receipts


def test_playbook_ids_in_paths_are_uuids(document, admin):
    parameter = document["paths"]["/v1/mmm/playbooks/{playbook_id}"]["delete"]["parameters"][0]
    assert parameter["schema"] == {"type": "string", "format": "uuid"}
    assert admin.delete("/v1/mmm/playbooks/not-a-uuid").status_code == 404


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
@pytest.mark.parametrize("actor_id", ["dev 1", "dev%091", "d%C2%A0v"])
def test_any_actor_id_in_a_path_makes_a_valid_cache_key(admin, actor_id):
    # the embedded default's cache warns (an error under test) on keys memcached would refuse
    path = f"/v1/mmm/actors/{actor_id}/preferences/snooze"
    assert admin.post(path, {"duration_hours": 2}, format="json").status_code == 200
    assert admin.delete(path).status_code == 200
