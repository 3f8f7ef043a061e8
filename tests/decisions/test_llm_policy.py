"""The tenant policy's LLM fields (FR-5, FR-13): daily token and cost budgets and the system prompt,
set through PUT /v1/mmm/tenants/{id}/policy with admin receipts, and read by the enrichment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from decisions.delivery.enrichment import action_enrich
from decisions.models import Action, LLMUsage
from preferences.models import TenantPolicy
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.decisions.test_llm import LLM_MENTOR, gateway  # noqa: F401 - the gateway fixture
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

POLICY = "/v1/mmm/tenants/tenant-a/policy"


@pytest.fixture
def admin(client_for):
    return client_for(actor_id="lead-1", roles=["tenant_admin"])


def _last_admin_receipt() -> dict:
    return receipt_document(Receipt.objects.filter(kind="admin_config").order_by("-created_at").first())


def test_llm_fields_are_set_shown_and_receipted(admin):
    assert admin.get(POLICY).json()["llm"] == {
        "daily_token_budget": None,
        "daily_cost_budget": None,
        "system_prompt_id": "",
    }
    body = {
        "llm": {"daily_token_budget": 50000, "daily_cost_budget": "2.50", "system_prompt_id": "mmm-mentor-v2"}
    }
    response = admin.put(POLICY, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["llm"] == {
        "daily_token_budget": 50000,
        "daily_cost_budget": "2.500000",
        "system_prompt_id": "mmm-mentor-v2",
    }
    policy = TenantPolicy.objects.get(tenant_id="tenant-a")
    assert (policy.llm_daily_token_budget, policy.llm_daily_cost_budget, policy.system_prompt_id) == (
        50000,
        Decimal("2.5"),
        "mmm-mentor-v2",
    )
    assert admin.get(POLICY).json()["llm"] == response.json()["llm"]
    first = _last_admin_receipt()
    assert first["before"] is None and first["after"]["llm"] == response.json()["llm"]
    # one field at a time; null lifts a budget; the receipt has the before and after state
    admin.put(POLICY, {"llm": {"daily_token_budget": None}}, format="json")
    second = _last_admin_receipt()
    assert second["before"]["llm"]["daily_token_budget"] == 50000
    assert second["after"]["llm"] == {
        "daily_token_budget": None,
        "daily_cost_budget": "2.500000",
        "system_prompt_id": "mmm-mentor-v2",
    }


@pytest.mark.parametrize(
    ("llm", "field"),
    [
        ({"daily_token_budget": -1}, "llm.daily_token_budget"),
        ({"daily_token_budget": "many"}, "llm.daily_token_budget"),
        ({"daily_cost_budget": "-0.5"}, "llm.daily_cost_budget"),
        ({"daily_cost_budget": "1e400"}, "llm.daily_cost_budget"),
        ({"system_prompt_id": "has spaces"}, "llm.system_prompt_id"),
        ({"system_prompt": "Be kind."}, "llm.system_prompt"),
    ],
)
def test_bad_llm_fields_are_a_400_naming_the_field(admin, llm, field):
    response = admin.put(POLICY, {"llm": llm}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert not TenantPolicy.objects.exists() and not Receipt.objects.exists()


@pytest.fixture
def llm_decision(client_for, gateway):  # noqa: F811 - the imported fixture
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, LLM_MENTOR]})

    def decide(signal_id: str) -> Action:
        body = {
            "tenant_id": "tenant-a",
            "context": {"branch": "main"},
            "signal": {"signal_id": signal_id, "source": "github", "event_type": "ci.check_run.failed"},
        }
        decision = after_commit(client_for(actor_id="dev-1").post, "/v1/mmm/decide", body, format="json")
        return Action.objects.get(decision_id=decision.json()["decision"]["decision_id"], type="mentor")

    return decide


def test_enrichment_uses_the_system_prompt_and_cost_budget_set_through_the_api(admin, gateway, llm_decision):  # noqa: F811
    admin.put(POLICY, {"llm": {"system_prompt_id": "sp-api", "daily_cost_budget": "0.002"}}, format="json")
    # under budget: the gateway is asked with the policy's system prompt, and the cost is counted
    assert after_commit(action_enrich, action_id=str(llm_decision("s1").id)) == "enriched"
    assert [p["system_prompt_id"] for p in gateway.prompts] == ["sp-api"]
    assert LLMUsage.objects.get().cost == Decimal("0.0012")
    assert after_commit(action_enrich, action_id=str(llm_decision("s2").id)) == "enriched"
    # 0.0024 spent today >= 0.002: the next action keeps its static text, the gateway is not asked
    third = llm_decision("s3")
    assert after_commit(action_enrich, action_id=str(third.id)) == "budget_exhausted"
    assert len(gateway.prompts) == 2
    third.refresh_from_db()
    assert third.payload["body"] == MENTOR["body"]
    # lifting the budget through the API lets enrichment go on (tomorrow's usage starts at zero too)
    admin.put(POLICY, {"llm": {"daily_cost_budget": None}}, format="json")
    assert after_commit(action_enrich, action_id=str(llm_decision("s4").id)) == "enriched"


def test_the_token_budget_set_through_the_api_stops_enrichment(admin, gateway, llm_decision):  # noqa: F811
    admin.put(POLICY, {"llm": {"daily_token_budget": 100}}, format="json")
    LLMUsage.objects.create(tenant_id="tenant-a", day=timezone.now().date(), tokens=100)
    assert after_commit(action_enrich, action_id=str(llm_decision("s1").id)) == "budget_exhausted"
    assert gateway.prompts == []
