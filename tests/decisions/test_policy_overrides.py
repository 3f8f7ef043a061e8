"""Override windows and exception approvals (FR-11): set through the tenant policy API (admin
receipts) or sent by the Policy service, applied at decide, recorded with reason codes on the
decision and in its receipt."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from django.utils import timezone

from decisions.models import Decision
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.decisions.test_peers import SNAPSHOT, Peer
from tests.engine.helpers import MIRROR, MULTIPLIER
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

POLICY = "/v1/mmm/tenants/tenant-a/policy"
SCHEMA = Path(__file__).resolve().parents[2] / "receipts" / "schema" / "receipt.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
PATCH = {
    **MULTIPLIER,
    "execution": {"executor": "ci", "operation": "auto_patch", "parameters": {}},
}


def _at(hours: float) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


@pytest.fixture
def admin(client_for):
    return client_for(actor_id="lead-1", roles=["tenant_admin"])


@pytest.fixture
def playbook():
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
        restrictions=["auto_patch"],
    )
    return publish_playbook(
        {"name": "fixer", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, PATCH]}
    )


def _decide(client_for, signal_id: str, repo_id: str = "org/app") -> tuple[dict, Decision, dict]:
    body = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": repo_id, "branch": "main"},
        "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.check_run.failed"},
    }
    decision = client_for(actor_id="dev-1").post("/v1/mmm/decide", body, format="json").json()["decision"]
    stored = Decision.objects.get(pk=decision["decision_id"])
    receipt = receipt_document(Receipt.objects.get(decision_id=stored.id, kind="decision"))
    assert list(VALIDATOR.iter_errors(receipt)) == []
    return decision, stored, receipt


def test_an_exception_set_through_the_api_lifts_a_restriction_for_its_repository(admin, client_for, playbook):
    exception = {
        "exception_id": "EXC-12",
        "restriction": "auto_patch",
        "expires_at": _at(2),
        "repo_id": "org/app",
        "playbook_id": str(playbook.id),
    }
    response = admin.put(POLICY, {"exception_approvals": [exception]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["exception_approvals"][0]["exception_id"] == "EXC-12"
    admin_receipt = receipt_document(Receipt.objects.filter(kind="admin_config").latest("created_at"))
    assert admin_receipt["after"]["exception_approvals"][0]["restriction"] == "auto_patch"
    assert admin_receipt["before"]["exception_approvals"] == []
    # in scope: the multiplier is proposed, and the decision and its receipt say why
    decision, stored, receipt = _decide(client_for, "s1")
    assert [a["type"] for a in decision["actions"]] == ["mirror", "multiplier"]
    expected = [
        {
            "reason": "policy.exception_approved",
            "id": "EXC-12",
            "restriction": "auto_patch",
            "playbook_id": str(playbook.id),
            "playbook_version": 1,
            "action_index": 1,
            "type": "multiplier",
        }
    ]
    assert stored.policy_overrides == expected
    assert receipt["policy_overrides"] == expected and "policy_override" in receipt["decision_badges"]
    # the explicit trigger evaluation shows the same, and writes nothing
    evaluation = client_for(actor_id="dev-1").post(
        "/v1/mmm/triggers/evaluate",
        {
            "tenant_id": "tenant-a",
            "context": {"repo_id": "org/app"},
            "signal": {"source": "github", "event_type": "ci.x"},
        },
        format="json",
    )
    [fired] = evaluation.json()["playbooks_fired"]
    assert fired["policy_overrides"] == expected
    # another repository: still restricted
    decision, stored, receipt = _decide(client_for, "s2", repo_id="org/other")
    assert [a["type"] for a in decision["actions"]] == ["mirror"]
    assert [s["reason"] for s in stored.suppressed_actions] == ["policy.restricted"]
    assert receipt["policy_overrides"] == [] and "policy_override" not in receipt["decision_badges"]


def test_a_window_set_through_the_api_tightens_with_its_reason_code(admin, client_for, playbook):
    window = {"window_id": "release-freeze", "starts_at": _at(-1), "ends_at": _at(1), "restrict": ["mirror"]}
    assert admin.put(POLICY, {"override_windows": [window]}, format="json").status_code == 200
    decision, _stored, receipt = _decide(client_for, "s1")
    assert decision["actions"] == []
    assert [s["reason"] for s in receipt["suppressed_actions"]] == [
        "policy.override_window:release-freeze",
        "policy.restricted",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "override_windows": [
                    {"window_id": "w", "starts_at": _at(1), "ends_at": _at(-1), "lift": ["x"]}
                ]
            },
            "ends_at",
        ),
        ({"override_windows": [{"window_id": "w", "starts_at": _at(-1), "ends_at": _at(1)}]}, "lift"),
        (
            {"override_windows": [{"window_id": "w", "starts_at": "soon", "ends_at": _at(1), "lift": ["x"]}]},
            "starts_at",
        ),
        (
            {
                "override_windows": [
                    {"window_id": "w w", "starts_at": _at(-1), "ends_at": _at(1), "lift": ["x"]}
                ]
            },
            "window_id",
        ),
        ({"exception_approvals": [{"exception_id": "e", "restriction": "x"}]}, "expires_at"),
        (
            {
                "exception_approvals": [
                    {"exception_id": "e", "restriction": "x", "expires_at": _at(1), "who": "me"}
                ]
            },
            "who",
        ),
    ],
)
def test_bad_windows_and_exceptions_are_a_400_naming_the_field(admin, body, field):
    response = admin.put(POLICY, body, format="json")
    assert response.status_code == 400, response.content
    [name] = response.json()["error"]["fields"]
    assert name.startswith(next(iter(body))) and name.endswith(field)
    assert not Receipt.objects.exists()


def test_the_policy_services_windows_apply_too(client_for, playbook, httpserver, settings):
    settings.POLICY_URL = httpserver.url_for("/").rstrip("/")
    snapshot = {
        **SNAPSHOT,
        "restrictions": ["auto_patch"],
        "override_windows": [
            {"window_id": "maint-7", "starts_at": _at(-1), "ends_at": _at(1), "lift": ["auto_patch"]},
            {"window_id": "broken", "starts_at": "whenever"},  # skipped: it can neither lift nor add
        ],
    }
    Peer(httpserver, "/v1/policy/tenants/tenant-a/evaluate", snapshot)
    decision, _stored, receipt = _decide(client_for, "s1")
    assert [a["type"] for a in decision["actions"]] == ["mirror", "multiplier"]
    assert [(o["reason"], o["id"]) for o in receipt["policy_overrides"]] == [
        ("policy.override_window_lifted", "maint-7")
    ]
