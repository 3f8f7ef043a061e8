"""Decisions (``POST /v1/mmm/decide``, spec 11.1, and every ingested signal): the decision flow of
DESIGN.md end to end, steps 2 and 10 here, steps 3 to 9 in ``decisions.services.evaluate``.

``decision_create`` answers a decide request; ``signal_decide`` decides on a signal that intake
stored (the ``ingest.decide`` task). Both persist the signal, the decision, its actions, their
deliveries and the signed decision receipt in one transaction, and record the same metrics.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from decisions.delivery.enrichment import enqueue_enrichment
from decisions.delivery.services import deliveries_create
from decisions.intake.services import signal_fail, signal_get_or_create, signal_release
from decisions.models import Action, Decision, LLMStatus, Signal, SignalStatus
from decisions.selectors import DECISION_ACTIONS, decision_for_signal
from decisions.services.evaluate import DecideInput, Evaluation, decide_input, evaluate
from mmm_project import metrics, tracing
from mmm_project.auth.principal import Principal
from mmm_project.background.transient import transient_reason
from mmm_project.errors import ApplicationError
from mmm_project.events import publish_after_commit
from receipts.documents import decision_body
from receipts.services import receipt_create

logger = logging.getLogger(__name__)

# NFR-1 latency targets, seconds: IDE calls and CI/PR calls.
LATENCY_BUDGET = {"ide": 0.150, "ci": 0.500}


@dataclass(frozen=True)
class DecisionResult:
    """The decision and whether it was an idempotent replay of an earlier one for the signal."""

    decision: Decision
    replayed: bool


def decision_create(
    *, principal: Principal, data: dict[str, Any], now: datetime | None = None
) -> DecisionResult:
    """Decide on one signal for one actor (``POST /v1/mmm/decide``, spec 11.1).

    Args:
        principal: the authenticated caller; its tenant is the decision's tenant.
        data: validated ``DecideInputSerializer`` data.
        now: the decision time (tests pass it; defaults to the current time).
    Returns:
        The persisted decision with its actions. A signal id already decided returns the first
        decision (``replayed=True``): the same signal never decides twice (FR-1).
    Raises:
        ApplicationError: ``FORBIDDEN`` (403) when the body's ``tenant_id`` is not the token's.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    with tracing.span("mmm.decision") as span:
        with tracing.span("mmm.signal"):
            decide = decide_input(principal=principal, request=data, now=now)
            tenant_id = decide.tenant_id
            _trace_input(span, decide)
            metrics.SIGNALS_RECEIVED.labels(
                tenant_id,
                metrics.source_label(decide.signal["source"]),
                metrics.event_type_label(decide.signal["event_type"]),
            ).inc()
            earlier = decision_for_signal(tenant_id=tenant_id, signal_id=decide.signal["signal_id"])
        if earlier is not None:
            tracing.set_attributes(span, decision_id=str(earlier.id), **{"mmm.replayed": True})
            return DecisionResult(earlier, replayed=True)

        result = evaluate(decide, now=now, reserve=True)
        elapsed = time.perf_counter() - started
        budget = LATENCY_BUDGET.get(decide.request_context.get("surface", "ide"), LATENCY_BUDGET["ide"])
        try:
            decision = _persist(
                data=decide,
                result=result,
                latency_ms=elapsed * 1000,
                latency_warning=elapsed > budget,
                now=now,
            )
        except IntegrityError:
            # A concurrent request decided the same signal first: answer with its decision.
            earlier = decision_for_signal(tenant_id=tenant_id, signal_id=decide.signal["signal_id"])
            if earlier is None:
                raise
            tracing.set_attributes(span, decision_id=str(earlier.id), **{"mmm.replayed": True})
            return DecisionResult(earlier, replayed=True)
        _trace_decision(span, decision, result, latency_ms=elapsed * 1000)

    if elapsed > budget:
        logger.warning(
            "decision over latency budget",
            extra={"decision_id": str(decision.id), "latency_ms": elapsed * 1000},
        )
    _record(decide, result, decision=decision, seconds=time.perf_counter() - started, via="decide")
    return DecisionResult(decision, replayed=False)


class SignalDeferred(Exception):
    """A stored signal could not be decided now for a transient reason (``reason``); its claim was
    released, so a retry or the sweep decides it later. Never a lost signal (FR-1, NFR-6)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signal_decide(*, signal_pk: str, now: datetime | None = None) -> str:
    """Decide on one stored signal (the ``ingest.decide`` task); return its status afterwards, or
    ``"skipped"`` when it is not waiting (decided, failed, or claimed by another worker).

    The signal is claimed first (``received -> deciding``, a conditional update), so a redelivered
    task never decides it twice; the decision commits with the status ``decided``.

    Raises:
        SignalDeferred: a transient failure (peer 503, database, cache or broker down, timeout);
            the claim is released and the signal stays ``received``.
        Exception: anything unexpected (a bug), after releasing the claim; the task retries a
            bounded number of times, then marks the signal failed.
    Permanent failures (the signal's own data, an unknown tenant) mark it ``failed`` with the reason.
    """
    now = now or timezone.now()
    with tracing.span("mmm.decision") as span:
        with tracing.span("mmm.signal"):
            claimed = Signal.objects.filter(pk=signal_pk, status=SignalStatus.RECEIVED).update(
                status=SignalStatus.DECIDING, claimed_at=now
            )
            if claimed != 1:
                tracing.set_attributes(span, **{"mmm.skipped": True})
                return "skipped"
            signal = Signal.objects.get(pk=signal_pk)
            decided = Decision.objects.filter(signal=signal).exists()
            decide = DecideInput.from_signal(signal)
            _trace_input(span, decide)
        if decided:
            Signal.objects.filter(pk=signal.pk).update(status=SignalStatus.DECIDED)
            return SignalStatus.DECIDED
        started = time.perf_counter()
        try:
            result = evaluate(decide, now=now, reserve=True)
            elapsed = time.perf_counter() - started
            decision = _persist(
                data=decide, result=result, latency_ms=elapsed * 1000, latency_warning=False, now=now
            )
        except Exception as exc:
            reason = transient_reason(exc)
            if reason is None and isinstance(exc, ApplicationError | ValueError | KeyError):
                metrics.SIGNALS_FAILED.labels(type(exc).__name__).inc()
                tracing.set_attributes(span, **{"error.type": type(exc).__name__})
                return signal_fail(signal_pk=signal_pk, reason=str(exc), claimed=True)
            signal_release(signal_pk=signal_pk)
            if reason is None:
                raise
            metrics.SIGNALS_DEFERRED.labels(reason).inc()
            logger.warning("signal decision deferred", extra={"signal_pk": signal_pk, "error": reason})
            raise SignalDeferred(reason) from exc
        _trace_decision(span, decision, result, latency_ms=elapsed * 1000)
    _record(decide, result, decision=decision, seconds=time.perf_counter() - started, via="signal")
    return SignalStatus.DECIDED


def _trace_input(span: Any, data: DecideInput) -> None:
    """Who and what the decision span is about (FR-15): ids and the signal's kind, no payload."""
    tracing.set_attributes(
        span,
        tenant_id=data.tenant_id,
        actor_id=data.actor_id,
        **{
            "mmm.actor_type": data.actor_type,
            "mmm.signal.source": data.signal["source"],
            "mmm.signal.event_type": data.signal["event_type"],
            "mmm.signal.severity": data.signal["severity"],
        },
    )


def _trace_decision(span: Any, decision: Decision, result: Evaluation, *, latency_ms: float) -> None:
    """The FR-15 attributes known once the decision is persisted."""
    tracing.set_attributes(
        span,
        decision_id=str(decision.id),
        playbook_ids=[c.playbook_id for c in result.matched],
        action_count=len(result.delivered),
        latency_ms=round(latency_ms, 3),
        degraded_mode=bool(result.degraded_mode),
        **{"mmm.suppressed_count": len(result.suppressed), "mmm.policy_stale": bool(result.policy_stale)},
    )


def _record(data: DecideInput, result: Evaluation, *, decision: Decision, seconds: float, via: str) -> None:
    """One decision's metrics and its INFO log line (FR-15), the same for a decide request
    (``via="decide"``) and a worker's decision of a stored signal (``via="signal"``): ids, counts
    and latency, never payloads (the actor id is pseudonymised by the log formatter)."""
    tenant_id = data.tenant_id
    logger.info(
        "decision made",
        extra={
            "tenant_id": tenant_id,
            "actor_id": data.actor_id,
            "actor_type": data.actor_type,
            "decision_id": str(decision.id),
            "signal_id": str(data.signal["signal_id"])[:255],
            "event_type": metrics.event_type_label(data.signal["event_type"]),
            "via": via,
            "playbook_ids": [candidate.playbook_id for candidate in result.matched],
            "action_count": len(result.delivered),
            "suppressed_count": len(result.suppressed),
            "latency_ms": round(seconds * 1000, 3),
            "degraded_mode": result.degraded_mode,
            "policy_stale": result.policy_stale,
        },
    )
    metrics.DECISIONS.labels(tenant_id, data.actor_type).inc()
    metrics.DECISION_LATENCY.labels(tenant_id).observe(seconds)
    for action in result.delivered:
        metrics.ACTIONS.labels(tenant_id, action.type).inc()
    for record in result.suppressed:
        metrics.ACTIONS_SUPPRESSED.labels(tenant_id, record["reason"].split(":")[0]).inc()


def _persist(
    *, data: DecideInput, result: Evaluation, latency_ms: float, latency_warning: bool, now: datetime
) -> Decision:
    """Signal (if new), decision, actions and the decision receipt in one transaction (step 10)."""
    signal_in = data.signal
    with transaction.atomic():
        signal, _ = signal_get_or_create(
            tenant_id=data.tenant_id,
            envelope={
                **signal_in,
                "actor_id": data.actor_id,
                "actor_type": data.actor_type,
                "ts": data.signal_ts,
                "context": data.request_context,
            },
            status=SignalStatus.DECIDED,
        )
        if signal.status != SignalStatus.DECIDED:  # an ingested signal, decided now
            Signal.objects.filter(pk=signal.pk).update(status=SignalStatus.DECIDED, last_error="")
        decision = Decision.objects.create(
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            actor_type=data.actor_type,
            signal=signal,
            context=result.context.as_dict(),
            playbooks_fired=[
                {"playbook_id": c.playbook_id, "playbook_version": c.version} for c in result.matched
            ],
            policy_snapshot_id=result.policy.snapshot_id,
            policy_version_ids=list(result.policy.version_ids or (result.policy.snapshot_id,)),
            degraded_mode=result.degraded_mode,
            policy_stale=result.policy_stale,
            suppressed_actions=result.suppressed,
            experiment_assignments=result.experiment_assignments,
            policy_overrides=result.policy_overrides,
            latency_ms=round(latency_ms, 3),
            latency_warning=latency_warning,
            created_at=now,
        )
        actions = Action.objects.bulk_create(
            Action(
                tenant_id=data.tenant_id,
                decision=decision,
                playbook_version_id=action.version_id,
                type=action.type,
                surfaces=list(action.surfaces),
                payload=action.payload,
                surface_payloads=action.surface_payloads,
                requires_consent=action.requires_consent,
                requires_dual_channel=action.requires_dual_channel,
                priority=action.priority,
                position=position,
                experiment_id=action.experiment_id,
                variant=action.variant,
                llm_status=LLMStatus.PENDING if action.llm_prompt else "",
                llm_prompt=action.llm_prompt,
                created_at=now,
            )
            for position, action in enumerate(result.delivered)
        )
        with tracing.span("mmm.delivery", **{"mmm.action_count": len(actions)}):
            deliveries_create(actions=actions)
            enqueue_enrichment([str(a.id) for a in actions if a.llm_status == LLMStatus.PENDING])
        # The signed decision receipt joins the same transaction (FR-12 outbox).
        with tracing.span("mmm.receipt"):
            receipt_create(
                build=lambda rid: decision_body(receipt_id=rid, decision=decision, actions=actions, now=now)
            )
        publish_after_commit(
            topic="mmm.decisions",
            tenant_id=data.tenant_id,
            event_type="decision.created",
            payload={
                "decision_id": str(decision.id),
                "actor_type": data.actor_type,
                "signal": {k: signal_in[k] for k in ("signal_id", "source", "event_type", "severity")},
                "actions": [
                    {"action_id": str(a.id), "type": a.type, "surfaces": list(a.surfaces)} for a in actions
                ],
                "suppressed": len(result.suppressed),
                "degraded_mode": decision.degraded_mode,
                "policy_snapshot_id": decision.policy_snapshot_id,
            },
        )
    return Decision.objects.prefetch_related(*DECISION_ACTIONS).get(pk=decision.pk)
