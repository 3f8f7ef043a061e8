"""LLM enrichment of Mentor and Multiplier actions (FR-5, NFR-4, NFR-6).

Decide returns the template's static text at once; with ``LLM_GATEWAY_URL`` set, an action whose
template has an ``llm`` prompt is marked ``pending`` and the ``llm.enrich`` task asks the gateway:

- ``pass`` or ``warn``: the content becomes revision 1 of the action (its payload stays
  immutable), the warning is kept in the receipt, and the held deliveries go out with it;
- ``fail``: the action is suppressed: the content is discarded, never reaches a surface, and
  its held deliveries are cancelled;
- content the engine's own non-coercion check refuses (FR-10: fear, urgency, blame, misleading
  certainty): the content is discarded and the static text stands (``fallback_coercive``);
- gateway unavailable (after the task's retries) or the tenant's daily token or cost budget
  spent (tenant policy ``llm``): the static text stands (FR-5 fallback).
At decide time, a gateway whose breaker is already open means the LLM-dependent action is
dropped (``llm.unavailable``, degraded) rather than proposed without it (NFR-6).
Every outcome writes a receipt with the safety verdict, and, when the gateway answered, the
provenance (model, prompt template hash, token counts, verdict and reasons; NFR-4); token counts
and cost are recorded per tenant and day.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from decisions.delivery.models import ActionRevision, Delivery, DeliveryStatus, LLMUsage
from decisions.delivery.provenance import llm_provenance
from decisions.delivery.services import OUTBOX
from decisions.engine.compose import ProposedAction
from decisions.engine.language import coercive_phrases
from decisions.engine.routing import surface_payloads
from decisions.models import Action, LLMStatus
from mmm_project import metrics
from mmm_project.background.queueing import enqueue_after_commit
from mmm_project.clients import PeerRejected, PeerUnavailable, llm_gateway
from mmm_project.residency import tenant_atomic
from mmm_project.vocabulary import Suppression
from preferences.selectors import tenant_policy_get
from receipts.documents import enrichment_body
from receipts.services import receipt_create

logger = logging.getLogger(__name__)


def plan_enrichment(
    actions: Iterable[ProposedAction],
) -> tuple[list[ProposedAction], list[dict[str, Any]], bool]:
    """At decide time: ``(kept, suppressed, degraded)`` for actions whose templates want LLM content.

    Without a gateway the static template is the content (the embedded default: prompts are
    dropped). With the gateway's breaker open, such actions are suppressed (NFR-6).
    """
    kept, suppressed, degraded = [], [], False
    for action in actions:
        if not action.llm_prompt:
            kept.append(action)
        elif not llm_gateway.client.configured:
            kept.append(ProposedAction(**{**action.__dict__, "llm_prompt": ""}))
        elif llm_gateway.client.state == "open":
            suppressed.append(action.suppressed(Suppression.LLM_UNAVAILABLE))
            degraded = True
        else:
            kept.append(action)
    if degraded:
        logger.warning("decision in degraded mode", extra={"peers": ["llm_gateway"]})
    return kept, suppressed, degraded


def enqueue_enrichment(action_ids: list[str]) -> None:
    """Ask for LLM content for these actions once the decision commits (``llm.enrich``)."""
    enqueue_after_commit("llm.enrich", action_ids)


def _release_deliveries(action: Action, *, cancel: bool) -> None:
    held = Delivery.objects.filter(action=action, status=DeliveryStatus.HELD)
    if cancel:
        held.update(
            status=DeliveryStatus.FAILED, last_error="LLM safety check failed", updated_at=timezone.now()
        )
        return
    ids = [str(pk) for pk in held.values_list("pk", flat=True)]
    now = timezone.now()
    held.update(status=DeliveryStatus.PENDING, updated_at=now, next_attempt_at=OUTBOX.first_attempt_due(now))
    # Called from the enrichment task (background): without a broker, send right here.
    enqueue_after_commit("delivery.send", ids, from_request=False, run_eagerly=True)


def _settle(
    action: Action,
    status: str,
    *,
    safety: dict[str, Any] | None,
    result: str,
    provenance: dict[str, Any] | None = None,
) -> str:
    with tenant_atomic():
        Action.objects.filter(pk=action.pk).update(llm_status=status)
        _release_deliveries(action, cancel=status == LLMStatus.UNSAFE)
        now = timezone.now()
        decision = action.decision
        receipt_create(
            build=lambda rid: enrichment_body(
                receipt_id=rid,
                action=action,
                decision=decision,
                result=result,
                safety=safety,
                now=now,
                provenance=provenance,
            )
        )
    metrics.LLM_ENRICHMENTS.labels(action.tenant_id, result).inc()
    return status


def _budget_spent(tenant_id: str, policy: Any) -> bool:
    """FR-5, FR-13: the tenant's daily LLM token or cost budget (tenant policy ``llm``) is used up
    today (UTC day, as counted in ``LLMUsage``); a null budget is no limit."""
    tokens, cost = policy.llm_daily_token_budget, policy.llm_daily_cost_budget
    if tokens is None and cost is None:
        return False
    usage = LLMUsage.objects.for_tenant(tenant_id).filter(day=timezone.now().date()).first()
    spent_tokens, spent_cost = (usage.tokens, usage.cost) if usage else (0, Decimal(0))
    return (tokens is not None and spent_tokens >= tokens) or (cost is not None and spent_cost >= cost)


def _record_usage(tenant_id: str, tokens: int, cost: object) -> None:
    usage, _ = LLMUsage.objects.get_or_create(tenant_id=tenant_id, day=timezone.now().date())
    LLMUsage.objects.filter(pk=usage.pk).update(
        tokens=F("tokens") + tokens, cost=F("cost") + cost, requests=F("requests") + 1
    )


def action_enrich(*, action_id: str) -> str:
    """Ask the gateway for one pending action's content; return the action's LLM status.

    Raises:
        PeerUnavailable: the gateway is unreachable; the action goes back to ``pending`` so the
            task can retry (``action_enrich_give_up`` settles it after the last retry).
    """
    claimed = Action.objects.filter(pk=action_id, llm_status=LLMStatus.PENDING).update(
        llm_status=LLMStatus.REQUESTING
    )
    if claimed != 1:
        return "skipped"
    action = Action.objects.select_related("decision").get(pk=action_id)
    policy = tenant_policy_get(tenant_id=action.tenant_id)
    if _budget_spent(action.tenant_id, policy):
        return _settle(action, LLMStatus.BUDGET_EXHAUSTED, safety=None, result="budget_exhausted")
    try:
        generation = llm_gateway.generate(
            prompt=action.llm_prompt,
            tenant_id=action.tenant_id,
            actor_id=action.decision.actor_id,
            actor_type=action.decision.actor_type,
            system_prompt_id=policy.system_prompt_id,
        )
    except PeerRejected:
        return _settle(action, LLMStatus.FALLBACK, safety=None, result="fallback")
    except PeerUnavailable:
        Action.objects.filter(pk=action_id).update(llm_status=LLMStatus.PENDING)
        raise
    _record_usage(action.tenant_id, generation.tokens, generation.cost)
    safety = {
        "status": generation.safety_status,
        "risk_flags": generation.risk_flags,
        "redaction_summary": generation.redaction_summary,
    }
    findings = coercive_phrases(generation.content)
    provenance = llm_provenance(
        action=action, generation=generation, system_prompt_id=policy.system_prompt_id, findings=findings
    )
    if generation.safety_status == "fail":
        logger.warning(
            "LLM content failed the safety check; action suppressed", extra={"action_id": action_id}
        )
        return _settle(action, LLMStatus.UNSAFE, safety=safety, result="unsafe", provenance=provenance)
    if findings:
        logger.warning(
            "LLM content refused by the non-coercion check; static text kept",
            extra={"action_id": action_id, "categories": sorted({f.category for f in findings})},
        )
        return _settle(
            action, LLMStatus.FALLBACK, safety=safety, result="fallback_coercive", provenance=provenance
        )
    payload = {**action.payload, "body": generation.content, "llm_generated": True}
    if generation.safety_status == "warn":
        payload["llm_safety_warning"] = True
    proposed = ProposedAction(
        playbook_id="",
        playbook_name="",
        version_id="",
        version=0,
        index=0,
        type=action.type,
        surfaces=tuple(action.surfaces),
        payload=payload,
        tags=(),
        template_priority=0.0,
        requires_consent=action.requires_consent,
        requires_dual_channel=action.requires_dual_channel,
        cooldown_minutes=None,
    )
    severity = action.decision.context.get("signal", {}).get("severity", "info")
    ActionRevision.objects.create(
        tenant_id=action.tenant_id,
        action=action,
        revision=1,
        payload=payload,
        surface_payloads=surface_payloads(proposed, severity=severity),
        safety_status=generation.safety_status,
        risk_flags=generation.risk_flags,
        redaction_summary=generation.redaction_summary,
    )
    return _settle(
        action,
        LLMStatus.ENRICHED,
        safety=safety,
        result="enriched_" + generation.safety_status,
        provenance=provenance,
    )


def action_enrich_give_up(*, action_id: str) -> str:
    """After the task's last retry: keep the static text (FR-5 fallback)."""
    action = Action.objects.select_related("decision").get(pk=action_id)
    if action.llm_status not in (LLMStatus.PENDING, LLMStatus.REQUESTING):
        return action.llm_status
    return _settle(action, LLMStatus.FALLBACK, safety=None, result="fallback")
