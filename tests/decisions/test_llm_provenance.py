"""Receipts of LLM-enriched actions carry provenance (NFR-4, FR-12): model id, prompt template hash,
system prompt id, input/output token counts, safety verdict and reasons; never the prompt or the
output text. LLM text the non-coercion check refuses (FR-10) is not used."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from decisions.delivery.enrichment import action_enrich
from decisions.models import Action, ActionRevision, Delivery
from receipts.models import Receipt
from receipts.services import receipt_document
from receipts.signing import verify_document
from tests.decisions.test_llm import LLM_MENTOR, gateway  # noqa: F401 - the gateway fixture
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[2] / "receipts" / "schema" / "receipt.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(
    json.loads(SCHEMA.read_text()), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
TEMPLATE = LLM_MENTOR["llm"]["prompt"]
OTHER_LLM_MENTOR = {
    **LLM_MENTOR,
    "title": "Another view",
    "llm": {"prompt": "Summarise {{ signal.event_type }}"},
}


@pytest.fixture
def enrich(client_for, gateway):  # noqa: F811
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, system_prompt_id="sp-9")
    publish_playbook(
        {
            "name": "ci",
            "triggers": [{"event_type": "ci.*"}],
            "actions": [MIRROR, LLM_MENTOR, OTHER_LLM_MENTOR],
        }
    )
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": "s1", "source": "github", "event_type": "ci.check_run.failed"},
    }
    decision = after_commit(client_for(actor_id="dev-1").post, "/v1/mmm/decide", body, format="json")
    mentors = Action.objects.filter(decision_id=decision.json()["decision"]["decision_id"], type="mentor")
    first = next(m for m in mentors if m.llm_prompt == "Suggest a next step for main")

    def run(action: Action = first) -> tuple[str, dict]:
        result = after_commit(action_enrich, action_id=str(action.id))
        receipt = (
            Receipt.objects.filter(payload__evaluation_point="enrichment").order_by("-created_at").first()
        )
        return result, receipt_document(receipt)

    run.mentors = list(mentors)
    return run


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _no_text(document: dict, *texts: str) -> None:
    serialised = json.dumps(document)
    for text in texts:
        assert text not in serialised


def test_an_enriched_action_receipt_carries_its_provenance_and_no_text(enrich, gateway):  # noqa: F811 - the imported fixture
    gateway.answer = {
        **gateway.answer,
        "model": "gpt-safe-2026-01",
        "usage": {"prompt_tokens": 90, "completion_tokens": 30, "total_tokens": 120, "cost": 0.001},
    }
    result, receipt = enrich()
    assert result == "enriched"
    assert receipt["llm_provenance"] == {
        "model_id": "gpt-safe-2026-01",
        "prompt_template_hash": _sha256(TEMPLATE),
        "system_prompt_id": "sp-9",
        "input_tokens": 90,
        "output_tokens": 30,
        "total_tokens": 120,
        "safety_verdict": "pass",
        "safety_reasons": [],
    }
    assert receipt["safety_checks_passed"] is True
    _no_text(receipt, "Suggest a next step", "Pair on the failing test")
    assert list(VALIDATOR.iter_errors(receipt)) == []
    assert verify_document(receipt).valid


def test_the_template_hash_names_the_template_the_action_came_from(enrich, gateway):  # noqa: F811 - the imported fixture
    # two LLM templates of the same type in one playbook: each action's hash is its own template's
    other = next(m for m in enrich.mentors if m.llm_prompt.startswith("Summarise"))
    _, receipt = enrich(other)
    assert receipt["llm_provenance"]["prompt_template_hash"] == _sha256(OTHER_LLM_MENTOR["llm"]["prompt"])
    assert receipt["llm_provenance"]["input_tokens"] is None  # the gateway gave only a total


def test_an_unsafe_answer_records_the_verdict_and_its_reasons(enrich, gateway):  # noqa: F811 - the imported fixture
    gateway.answer = {
        "content": "Ignore the tests and force-push.",
        "model_id": "m-1",
        "safety": {
            "status": "fail",
            "risk_flags": ["harmful_instruction", "policy_bypass"],
            "redaction_summary": {},
        },
        "usage": {"input_tokens": 40, "output_tokens": 10, "total_tokens": 50, "cost": 0},
    }
    result, receipt = enrich()
    assert result == "unsafe"
    provenance = receipt["llm_provenance"]
    assert (provenance["safety_verdict"], provenance["safety_reasons"]) == (
        "fail",
        ["harmful_instruction", "policy_bypass"],
    )
    assert (provenance["model_id"], provenance["input_tokens"], provenance["output_tokens"]) == (
        "m-1",
        40,
        10,
    )
    assert receipt["safety_checks_passed"] is False
    _no_text(receipt, "force-push")
    assert list(VALIDATOR.iter_errors(receipt)) == []


def test_coercive_llm_text_is_refused_and_the_static_text_stands(enrich, gateway):  # noqa: F811 - the imported fixture
    gateway.answer = {**gateway.answer, "content": "Act now: you broke the build and this fix is guaranteed."}
    result, receipt = enrich()
    assert result == "fallback"
    assert receipt["result"] == "fallback_coercive"
    provenance = receipt["llm_provenance"]
    assert provenance["safety_verdict"] == "fail"
    assert provenance["safety_reasons"] == [
        "non_coercion:blame",
        "non_coercion:misleading_certainty",
        "non_coercion:urgency",
    ]
    assert receipt["safety_checks_passed"] is False
    _no_text(receipt, "Act now", "you broke")
    # the action keeps its template text: no revision; its held alert delivery goes out with it
    action = next(m for m in enrich.mentors if m.llm_prompt == "Suggest a next step for main")
    assert not ActionRevision.objects.filter(action=action).exists()
    assert Delivery.objects.get(action=action, surface="alert").status != "held"
    texts = [n["text"] for n in gateway.alerting.notifications.values() if n["action_type"] == "mentor"]
    assert MENTOR["body"] in texts and not any("Act now" in t for t in texts)
    assert list(VALIDATOR.iter_errors(receipt)) == []


def test_without_an_answer_the_provenance_is_null(enrich, gateway):  # noqa: F811 - the imported fixture
    gateway.script = [400]  # the gateway refuses the request: static text, no LLM answered
    result, receipt = enrich()
    assert result == "fallback"
    assert receipt["llm_provenance"] is None
    assert list(VALIDATOR.iter_errors(receipt)) == []
