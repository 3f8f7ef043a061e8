"""LLM enrichment (FR-5, NFR-4, NFR-6; IT-MMM-03, RF-MMM-01) against a local LLM Gateway server."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from werkzeug import Response

from decisions.delivery.enrichment import action_enrich
from decisions.models import Action, ActionRevision, Delivery, LLMUsage
from mmm_project.celery import app as celery_app
from mmm_project.clients import llm_gateway
from playbooks.spec import validate_playbook
from receipts.models import Receipt
from receipts.services import receipt_document
from tasks.llm import action_enrich_task
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit
from tests.peers import FakeAlerting

pytestmark = pytest.mark.django_db

LLM_MENTOR = {
    **MENTOR,
    "surfaces": ["ide", "alert"],
    "llm": {"prompt": "Suggest a next step for {{ context.branch }}"},
}


class FakeGateway:
    def __init__(self, httpserver):
        self.prompts: list[dict] = []
        self.answer = {
            "content": "Pair on the failing test for 15 minutes.",
            "safety": {"status": "pass", "risk_flags": [], "redaction_summary": {}},
            "usage": {"total_tokens": 120, "cost": 0.0012},
        }
        self.script: list[int] = []
        httpserver.expect_request("/v1/llm/generate", method="POST").respond_with_handler(self.handle)

    def handle(self, request):
        self.prompts.append(request.get_json())
        if self.script:
            return Response(status=self.script.pop(0))
        return Response(json.dumps(self.answer), content_type="application/json")


@pytest.fixture
def gateway(httpserver, settings):
    settings.LLM_GATEWAY_URL = settings.ALERTING_URL = httpserver.url_for("/").rstrip("/")
    fake = FakeGateway(httpserver)
    fake.alerting = FakeAlerting()
    fake.alerting.install(httpserver)
    return fake


@pytest.fixture
def decided(client_for, gateway):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, system_prompt_id="sp-7")
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, LLM_MENTOR]})
    client = client_for(actor_id="dev-1")
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {
            "signal_id": "s1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    decision = after_commit(client.post, "/v1/mmm/decide", body, format="json").json()["decision"]
    mentor = Action.objects.get(decision_id=decision["decision_id"], type="mentor")
    return client, decision, mentor


def _nudge_bodies(client):
    nudges = client.get("/v1/mmm/actors/dev-1/nudges?surface=ide").json()["nudges"]
    return {n["type"]: n["payload"]["card"]["body"] for n in nudges}


def test_it_mmm_03_safe_content_becomes_a_revision_and_is_delivered(decided, gateway):
    client, decision, mentor = decided
    # decide answered at once with the template's static text; the mentor waits for the LLM
    assert next(a for a in decision["actions"] if a["type"] == "mentor")["payload"]["body"] == MENTOR["body"]
    assert mentor.llm_status == "pending"
    assert set(_nudge_bodies(client)) == {"mirror"}
    assert Delivery.objects.get(action=mentor, surface="alert").status == "held"
    # the task asks the gateway with the rendered prompt and the policy's system prompt
    assert after_commit(action_enrich, action_id=str(mentor.id)) == "enriched"
    assert gateway.prompts[0]["prompt"] == "Suggest a next step for main"
    assert gateway.prompts[0]["system_prompt_id"] == "sp-7" and gateway.prompts[0]["tenant_id"] == "tenant-a"
    mentor.refresh_from_db()
    assert mentor.payload["body"] == MENTOR["body"]  # the original payload stays immutable
    assert (
        ActionRevision.objects.get(action=mentor).payload["body"]
        == "Pair on the failing test for 15 minutes."
    )
    assert _nudge_bodies(client)["mentor"] == "Pair on the failing test for 15 minutes."
    receipt = receipt_document(Receipt.objects.get(payload__evaluation_point="enrichment"))
    assert receipt["llm_safety"]["status"] == "pass" and receipt["safety_checks_passed"] is True
    usage = LLMUsage.objects.get()
    assert (usage.tokens, usage.requests) == (120, 1)
    # the held alert delivery went out with the LLM's words
    assert [n["text"] for n in gateway.alerting.notifications.values() if n["action_type"] == "mentor"] == [
        "Pair on the failing test for 15 minutes."
    ]


def test_it_mmm_03_unsafe_content_never_reaches_a_surface(decided, gateway):
    client, _, mentor = decided
    gateway.answer = {
        "content": "Ignore the tests and force-push.",
        "safety": {"status": "fail", "risk_flags": ["harmful_instruction"], "redaction_summary": {}},
        "usage": {"total_tokens": 50, "cost": 0},
    }
    assert after_commit(action_enrich, action_id=str(mentor.id)) == "unsafe"
    assert not ActionRevision.objects.exists()
    assert "mentor" not in _nudge_bodies(client)
    assert Delivery.objects.get(action=mentor, surface="alert").status == "failed"
    assert "force-push" not in json.dumps([n for n in gateway.alerting.notifications.values()])
    receipt = receipt_document(Receipt.objects.get(payload__evaluation_point="enrichment"))
    assert receipt["llm_safety"]["status"] == "fail" and receipt["safety_checks_passed"] is False
    assert receipt["risk_flags"] == ["harmful_instruction"]
    assert "force-push" not in json.dumps(receipt)
    # the decision still lists the action, saying it was suppressed after the decision
    listed = client.get(f"/v1/mmm/decisions/{mentor.decision_id}").json()["decision"]["actions"]
    assert {a["type"]: (a["status"], a["status_reason"]) for a in listed} == {
        "mirror": ("active", None),
        "mentor": ("suppressed", "llm.unsafe"),
    }


def test_warn_is_delivered_with_the_warning_in_the_receipt(decided, gateway):
    client, _, mentor = decided
    gateway.answer["safety"] = {
        "status": "warn",
        "risk_flags": ["low_confidence"],
        "redaction_summary": {"pii": 1},
    }
    assert after_commit(action_enrich, action_id=str(mentor.id)) == "enriched"
    assert _nudge_bodies(client)["mentor"] == gateway.answer["content"]
    receipt = receipt_document(Receipt.objects.get(payload__evaluation_point="enrichment"))
    assert receipt["llm_safety"] == {
        "status": "warn",
        "risk_flags": ["low_confidence"],
        "redaction_summary": {"pii": 1},
    }
    assert receipt["result"] == "enriched_warn"


@pytest.fixture
def eager_retries():
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


def test_rf_mmm_01_gateway_down_during_enrichment_keeps_the_static_text(decided, gateway, eager_retries):
    client, _, mentor = decided
    gateway.script = [503] * 4
    assert after_commit(action_enrich_task.apply, args=[str(mentor.id)], throw=False).get() == "fallback"
    assert len(gateway.prompts) == 4  # the first call and three retries
    assert _nudge_bodies(client)["mentor"] == MENTOR["body"]
    receipt = receipt_document(Receipt.objects.get(payload__evaluation_point="enrichment"))
    assert receipt["result"] == "fallback"


def test_rf_mmm_01_gateway_known_down_at_decide_drops_llm_actions(client_for, gateway):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, LLM_MENTOR]})
    llm_gateway.client.breaker.open()  # five failures earlier: the gateway is known to be down
    body = {"tenant_id": "tenant-a", "signal": {"signal_id": "s9", "source": "github", "event_type": "ci.x"}}
    decision = client_for().post("/v1/mmm/decide", body, format="json").json()["decision"]
    assert [a["type"] for a in decision["actions"]] == ["mirror"]
    assert decision["degraded_mode"] is True
    from decisions.models import Decision

    stored = Decision.objects.get(pk=decision["decision_id"])
    assert [s["reason"] for s in stored.suppressed_actions] == ["llm.unavailable"]
    receipt = receipt_document(Receipt.objects.get(decision_id=stored.id, kind="decision"))
    assert receipt["degraded"] is True
    from prometheus_client import REGISTRY

    labels = {"tenant_id": "tenant-a", "peer": "llm_gateway"}
    assert REGISTRY.get_sample_value("mmm_degraded_decisions_total", labels) >= 1
    assert receipt["suppressed_actions"][0]["reason"] == "llm.unavailable"


def test_daily_token_budget_stops_enrichment(decided, gateway):
    client, _, mentor = decided
    from preferences.models import TenantPolicy

    TenantPolicy.objects.filter(tenant_id="tenant-a").update(llm_daily_token_budget=100)
    LLMUsage.objects.create(tenant_id="tenant-a", day=timezone.now().date(), tokens=100)
    assert after_commit(action_enrich, action_id=str(mentor.id)) == "budget_exhausted"
    assert gateway.prompts == []
    assert _nudge_bodies(client)["mentor"] == MENTOR["body"]


def test_without_a_gateway_the_static_template_is_the_content(client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [LLM_MENTOR]})
    body = {"tenant_id": "tenant-a", "signal": {"signal_id": "s1", "source": "github", "event_type": "ci.x"}}
    client_for().post("/v1/mmm/decide", body, format="json")
    assert Action.objects.get().llm_status == ""


def test_mirror_templates_cannot_ask_for_llm_content():
    _, problems = validate_playbook(
        {"name": "x", "triggers": [{"event_type": "x"}], "actions": [{**MIRROR, "llm": {"prompt": "hi"}}]}
    )
    assert [p.field for p in problems] == ["actions[0].llm"]
