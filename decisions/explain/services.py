"""Why am I seeing this (issue 15): explanations of an action and of a decision's suppressions.

Built only from stored data: the decision's data-minimised context, the playbook version the action
came from, the decision's suppression records and experiment assignments, the action's LLM
revision, and the receipt that attests the decision. Never from LLM output.
"""

from __future__ import annotations

import hashlib
from typing import Any

from decisions.engine.conditions import ConditionProblem, compile_condition
from decisions.engine.thresholds import count_sentence
from decisions.explain import texts
from decisions.models import Action, Decision
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from mmm_project.tenancy import get_for_tenant, parse_uuid
from playbooks.models import Playbook
from receipts.models import Receipt, ReceiptKind

# Provenance field names the LLM revision or the enrichment receipt may carry (added over time).
_MODEL_FIELDS = ("model_id", "model")
_PROMPT_HASH_FIELDS = ("prompt_hash",)


def _check_reader(principal: Principal, decision: Decision) -> None:
    """The decision's actor or an admin of the tenant (the tenant is already checked: 404)."""
    if principal.actor_id != decision.actor_id and not principal.is_admin:
        raise ApplicationError(
            "FORBIDDEN", "Only the actor or an admin may read this explanation.", status_code=403
        )


def _decision_receipt_id(decision: Decision) -> str | None:
    receipt = (
        Receipt.objects.for_tenant(decision.tenant_id)
        .filter(decision_id=decision.id, kind=ReceiptKind.DECISION, payload__evaluation_point="decide")
        .order_by("created_at")
        .values_list("receipt_id", flat=True)
        .first()
    )
    return str(receipt) if receipt else None


def _conditions(expressions: list[str], context: dict[str, Any]) -> list[dict[str, Any]]:
    """Each condition with whether it holds on the stored context (checked again, not assumed)."""
    out = []
    for index, expression in enumerate(expressions, start=1):
        try:
            held: bool | None = compile_condition(expression).execute(context) is True
        except (ConditionProblem, Exception):  # noqa: BLE001 - any failure: we cannot say
            held = None
        out.append(
            {
                "expression": expression,
                "held": held,
                "text": texts.condition_sentence(index, expression, held),
            }
        )
    return out


def _first(sources: list[Any], names: tuple[str, ...]) -> Any:
    for source in sources:
        for name in names:
            value = source.get(name) if isinstance(source, dict) else getattr(source, name, None)
            if value:
                return value
    return None


def _llm(action: Action) -> dict[str, Any] | None:
    """Model, prompt hash and safety verdict where stored; absent fields are null (degrades)."""
    if not action.llm_status and not action.llm_prompt:
        return None
    revisions = sorted(action.revisions.all(), key=lambda r: r.revision)
    revision = revisions[-1] if revisions else None
    receipt = (
        Receipt.objects.for_tenant(action.tenant_id)
        .filter(decision_id=action.decision_id, payload__evaluation_point="enrichment")
        .filter(payload__inputs__action_id=str(action.id))
        .order_by("-created_at")
        .first()
    )
    payload = receipt.payload if receipt else {}
    safety = payload.get("llm_safety") or {}
    sources = [revision, safety, payload] if revision else [safety, payload]
    prompt_hash = _first(sources, _PROMPT_HASH_FIELDS)
    if prompt_hash is None and action.llm_prompt:
        prompt_hash = "sha256:" + hashlib.sha256(action.llm_prompt.encode()).hexdigest()
    verdict = (revision.safety_status if revision else None) or safety.get("status")
    return {
        "status": action.llm_status or None,
        "model": _first(sources, _MODEL_FIELDS),
        "prompt_hash": prompt_hash,
        "safety_verdict": verdict,
        "risk_flags": list(revision.risk_flags) if revision else list(safety.get("risk_flags", [])),
        "receipt_id": str(receipt.receipt_id) if receipt else None,
        "text": texts.llm_sentence(action.llm_status, verdict),
    }


def _signal(decision: Decision) -> dict[str, Any]:
    signal = dict(decision.context.get("signal", {}))
    out = {k: signal.get(k) for k in ("signal_id", "type", "source", "severity", "ts")}
    out["type"] = signal.get("event_type")
    out["text"] = texts.signal_sentence(signal)
    return out


def action_explanation(*, principal: Principal, action_id: str) -> dict[str, Any]:
    """``GET /v1/mmm/actions/{action_id}/explanation``: why this action reached its actor.

    Returns ``{"action_id", "decision_id", "type", "status", "summary", "signal", "playbook",
    "conditions", "gates", "experiment", "evidence_handles", "llm", "receipt_id"}``; texts are plain
    sentences. Raises NotFound (another tenant's action too) or ``FORBIDDEN`` (403) for a caller
    who is neither the decision's actor nor an admin.
    """
    queryset = Action.objects.select_related("decision", "playbook_version").prefetch_related("revisions")
    action = get_for_tenant(queryset, tenant_id=principal.tenant_id, pk=action_id, resource="Action")
    decision = action.decision
    _check_reader(principal, decision)
    context = decision.context
    version = action.playbook_version
    playbook = None
    conditions: list[dict[str, Any]] = []
    if version is not None:
        name = Playbook.objects.filter(pk=version.playbook_id).values_list("name", flat=True).first() or ""
        count = next(
            (
                fired.get("trigger_count")
                for fired in decision.playbooks_fired
                if fired.get("playbook_id") == str(version.playbook_id)
            ),
            None,
        )
        playbook = {
            "playbook_id": str(version.playbook_id),
            "name": name,
            "version": version.version,
            "text": texts.playbook_sentence(name, version.version)
            + (f" {count_sentence(count)}" if count else ""),
            "trigger_count": {**count, "text": count_sentence(count)} if count else None,
        }
        conditions = _conditions(list(version.conditions), context)
    experiment = None
    if action.experiment_id or action.variant:
        assignment = decision.experiment_assignments.get(str(action.experiment_id), {})
        bandit = assignment.get("type") == "bandit"  # FR-9: explainable at a high level
        experiment = {
            "experiment_id": str(action.experiment_id) if action.experiment_id else None,
            "variant": action.variant,
            "type": "bandit" if bandit else "ab",
            "text": (
                f"The '{action.variant}' variant was chosen by an adaptive experiment on this playbook: "
                "variants your organisation accepted more often so far are chosen more often "
                "(aggregate responses only, never a score of a person)."
                if bandit
                else f"You are in the '{action.variant}' variant of an experiment on this playbook."
            ),
        }
    signal = _signal(decision)
    return {
        "action_id": str(action.id),
        "decision_id": str(decision.id),
        "type": action.type,
        "status": action.status,
        "summary": texts.summary_sentence(
            action_type=action.type, signal=context.get("signal", {}), playbook=playbook and playbook["name"]
        ),
        "signal": signal,
        "playbook": playbook,
        "conditions": conditions,
        "gates": texts.gate_sentences(
            action_type=action.type,
            surfaces=list(action.surfaces),
            quiet_hours=context.get("tenant", {}).get("quiet_hours", {}),
            position=action.position,
        )
        + [g for g in [texts.route_sentence(action.route_reason, list(action.surfaces))] if g],
        "experiment": experiment,
        "evidence_handles": list(action.payload.get("evidence_links", [])),
        "llm": _llm(action),
        "degraded_mode": decision.degraded_mode,
        "receipt_id": _decision_receipt_id(decision),
    }


def decision_explanation(*, principal: Principal, decision_id: str) -> dict[str, Any]:
    """``GET /v1/mmm/decisions/{decision_id}/explanation``: each suppressed candidate with its
    reason code (``mmm_project.vocabulary.Suppression``) and a sentence, plus the delivered actions.

    Raises NotFound (another tenant's decision too) or ``FORBIDDEN`` (403) as ``action_explanation``.
    """
    decision = get_for_tenant(
        Decision.objects.prefetch_related("actions"),
        tenant_id=principal.tenant_id,
        pk=decision_id,
        resource="Decision",
    )
    _check_reader(principal, decision)
    ids = {r.get("playbook_id") for r in decision.suppressed_actions} - {None}
    names = dict(
        Playbook.objects.for_tenant(decision.tenant_id)
        .filter(pk__in=[i for i in ids if _is_uuid(i)])
        .values_list("id", "name")
    )
    names = {str(k): v for k, v in names.items()}
    suppressed = [
        {
            "type": record.get("type"),
            "playbook_id": record.get("playbook_id"),
            "playbook_name": names.get(str(record.get("playbook_id")), ""),
            "playbook_version": record.get("playbook_version"),
            "action_index": record.get("action_index"),
            "reason_code": texts.reason_code(record["reason"]),
            "text": texts.suppression_sentence(record["reason"]),
        }
        for record in decision.suppressed_actions
    ]
    delivered = [
        {"action_id": str(a.id), "type": a.type, "surfaces": list(a.surfaces), "route_reason": a.route_reason}
        for a in decision.actions.all()
    ]
    return {
        "decision_id": str(decision.id),
        "signal": _signal(decision),
        "delivered": delivered,
        "suppressed": suppressed,
        "degraded_mode": decision.degraded_mode,
        "receipt_id": _decision_receipt_id(decision),
    }


def _is_uuid(value: Any) -> bool:
    return parse_uuid(value) is not None
