"""Provenance of LLM-written action content, for its receipt (NFR-4, FR-12).

Which model wrote it, from which prompt template (a hash) and system prompt (its id), how many
tokens went in and out, and the safety verdict with its reasons: the gateway's risk flags plus
the engine's own non-coercion findings on the text (FR-10, ``non_coercion:<category>``). Never
the prompt or the output text: the template is hashed, and the rendered prompt and the content
stay on the action and its revision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from decisions.engine.language import LanguageFinding
from decisions.engine.templates import TemplateProblem, render
from mmm_project.clients.llm_gateway import Generation


def prompt_template_hash(action: Any) -> str | None:
    """``"sha256:<hex>"`` of the playbook's ``llm.prompt`` template the action was rendered from.

    The action keeps its playbook version, not its template's index: the template is the
    version's only LLM template of the action's type, or, when there are several, the one that
    renders to the action's prompt over the decision's stored context. None when it cannot be
    told (an experiment variant's template, a version without one).
    """
    version = action.playbook_version
    if version is None:
        return None
    templates = sorted(
        {
            t["llm"]["prompt"]
            for t in version.actions
            if t.get("type") == action.type and isinstance(t.get("llm"), dict) and t["llm"].get("prompt")
        }
    )
    if len(templates) > 1:
        templates = [t for t in templates if _renders_to(t, action.decision.context, action.llm_prompt)]
    if len(templates) != 1:
        return None
    return "sha256:" + hashlib.sha256(templates[0].encode()).hexdigest()


def _renders_to(template: str, context: dict[str, Any], prompt: str) -> bool:
    try:
        return render(template, context) == prompt
    except TemplateProblem:
        return False


def llm_provenance(
    *,
    action: Any,
    generation: Generation,
    system_prompt_id: str,
    findings: Iterable[LanguageFinding] = (),
) -> dict[str, Any]:
    """The ``llm_provenance`` object of an enrichment receipt (schema in
    ``receipts/schema/receipt.schema.json``): ``{"model_id", "prompt_template_hash",
    "system_prompt_id", "input_tokens", "output_tokens", "total_tokens", "safety_verdict",
    "safety_reasons"}``. The verdict is the gateway's, or ``fail`` when the engine's own
    non-coercion check refused the text."""
    categories = sorted({finding.category for finding in findings})
    reasons = sorted({*generation.risk_flags, *(f"non_coercion:{c}" for c in categories)})
    return {
        "model_id": generation.model_id or None,
        "prompt_template_hash": prompt_template_hash(action),
        "system_prompt_id": system_prompt_id or None,
        "input_tokens": generation.input_tokens,
        "output_tokens": generation.output_tokens,
        "total_tokens": generation.tokens,
        "safety_verdict": "fail" if categories else generation.safety_status,
        "safety_reasons": reasons,
    }
