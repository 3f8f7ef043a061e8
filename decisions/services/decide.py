"""Decisions (``POST /v1/mmm/decide``, spec 11.1, and every ingested signal): the decision flow of
DESIGN.md end to end, steps 2 and 10 here, steps 3 to 9 in ``decisions.services.evaluate``.

``decision_create`` answers a decide request; ``signal_decide`` decides on a signal that intake
stored (the ``ingest.decide`` task). Both persist the signal, the decision, its actions, their
deliveries and the signed decision receipt in one transaction, and record the same metrics.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from decisions.engine.context import RECENT_SIGNALS_LIMIT
from decisions.engine.matching import PlaybookCandidate
from decisions.engine.thresholds import HistoryQuery, history_queries
from decisions.intake.services import signal_claim, signal_fail, signal_release
from decisions.models import Decision, Signal, SignalStatus
from decisions.selectors import SignalLookup, decision_for_signal, signal_lookup
from decisions.services.evaluate import DecideInput, Evaluation, decide_input, evaluate
from decisions.services.persist import decision_persist
from mmm_project import metrics, tracing
from mmm_project.auth.principal import Principal
from mmm_project.background.after_response import after_response
from mmm_project.background.transient import transient_reason
from mmm_project.caching import TENANT_CONFIG, generation_get, generation_key
from mmm_project.caching.prefetch import cache_prefetch
from mmm_project.errors import ApplicationError
from playbooks.selectors import playbook_candidates, playbook_candidates_seen
from preferences.selectors import preferences_cache_key
from receipts.pseudonyms import key_cache_key

logger = logging.getLogger(__name__)

# Matched playbook ids named in a decision's log line and span, at most (all are on the decision).
PLAYBOOK_IDS_LISTED = 50
# Seconds a decision's write takes in this process (moving average), kept out of the budget.
_write_seconds = [0.005]


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
    with tracing.span("mmm.decision") as span, ExitStack() as reads:
        with tracing.span("mmm.signal"):
            decide = decide_input(principal=principal, request=data, now=now)
            reads.enter_context(cache_prefetch(_cached_reads(decide)))
            tenant_id = decide.tenant_id
            _trace_input(span, decide)
            metrics.SIGNALS_RECEIVED.labels(
                tenant_id,
                metrics.source_label(decide.signal["source"]),
                metrics.event_type_label(decide.signal["event_type"]),
            ).inc()
            generation, candidates, lookup = _candidates_and_lookup(decide)
            earlier = None
            if lookup.existing_pk is not None:
                earlier = decision_for_signal(tenant_id=tenant_id, signal_id=decide.signal["signal_id"])
        if earlier is not None:
            tracing.set_attributes(span, decision_id=str(earlier.id), **{"mmm.replayed": True})
            return DecisionResult(earlier, replayed=True)

        budgets = settings.DECIDE_LATENCY_BUDGET_SECONDS  # NFR-1: IDE calls and CI/PR calls
        budget = budgets.get(decide.request_context.get("surface", "ide"), budgets["ide"])
        # NFR-1: the budget covers the database write too; this process's recent writes estimate it.
        deadline = started + budget - _write_seconds[0]
        result = _evaluate(decide, generation, candidates, lookup, now=now, deadline=deadline)
        elapsed = time.perf_counter() - started
        try:
            decision = decision_persist(
                data=decide,
                result=result,
                latency_ms=elapsed * 1000,
                latency_warning=elapsed > budget,
                now=now,
                signal_pk=lookup.existing_pk,  # an ingested signal not decided yet: decided now
            )
        except IntegrityError:
            # A concurrent request decided the same signal first: answer with its decision.
            earlier = decision_for_signal(tenant_id=tenant_id, signal_id=decide.signal["signal_id"])
            if earlier is None:
                raise
            tracing.set_attributes(span, decision_id=str(earlier.id), **{"mmm.replayed": True})
            return DecisionResult(earlier, replayed=True)
        written = time.perf_counter() - started
        _write_seconds[0] = 0.8 * _write_seconds[0] + 0.2 * (written - elapsed)
        _trace_decision(span, decision, result, latency_ms=elapsed * 1000)
        tracing.set_attributes(span, **{"mmm.latency_with_write_ms": round(written * 1000, 3)})
        elapsed = written

    if elapsed > budget:
        logger.warning(
            "decision over latency budget",
            extra={"decision_id": str(decision.id), "latency_ms": elapsed * 1000},
        )
    seconds = time.perf_counter() - started
    # The log line and metrics need not hold up the answer (NFR-1): written once it is sent.
    after_response(lambda: _record(decide, result, decision=decision, seconds=seconds, via="decide"))
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
    with tracing.span("mmm.decision") as span, ExitStack() as reads:
        with tracing.span("mmm.signal"):
            signal = signal_claim(signal_pk=signal_pk, now=now)
            if signal is None:
                tracing.set_attributes(span, **{"mmm.skipped": True})
                return "skipped"
            decide = DecideInput.from_signal(signal)
            reads.enter_context(cache_prefetch(_cached_reads(decide)))
            _trace_input(span, decide)
        started = time.perf_counter()
        try:
            result = _evaluate(decide, *_candidates_and_lookup(decide), now=now)
            elapsed = time.perf_counter() - started
            decision = decision_persist(
                data=decide,
                result=result,
                latency_ms=elapsed * 1000,
                latency_warning=False,
                now=now,
                signal_pk=signal.pk,
            )
        except IntegrityError:
            # Decided already (its decision committed, the status update did not): mark it so.
            if not Decision.objects.filter(signal_id=signal_pk).exists():
                signal_release(signal_pk=signal_pk)
                raise
            Signal.objects.filter(pk=signal_pk).update(status=SignalStatus.DECIDED)
            return SignalStatus.DECIDED
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
            logger.warning(
                "signal decision deferred",
                extra={"tenant_id": decide.tenant_id, "signal_pk": signal_pk, "error": reason},
            )
            raise SignalDeferred(reason) from exc
        _trace_decision(span, decision, result, latency_ms=elapsed * 1000)
    _record(decide, result, decision=decision, seconds=time.perf_counter() - started, via="signal")
    return SignalStatus.DECIDED


def _candidates_and_lookup(decide: DecideInput) -> tuple[str, list[PlaybookCandidate], SignalLookup]:
    """The tenant's configuration generation, the published playbooks that fit the signal (cached
    per process), and one query (``signal_lookup``): is the signal stored already (FR-1), the
    actor's recent signals but this one (FR-2), and the repository's prior signals the
    candidates' count triggers need (issue 15; without any, no such branch).

    The query runs while the cache read of the generation (``cache_prefetch``) is under way: its
    history branches are those of the candidates this process last saw for the signal's kind. Once
    the generation is known, candidates whose count triggers ask for other branches (a playbook
    changed since) have ``evaluate`` read theirs; a process that saw none waits for the generation
    first."""
    signal, tenant_id = decide.signal, decide.tenant_id
    kind = {"event_type": signal["event_type"], "source": signal["source"], "severity": signal["severity"]}
    seen = playbook_candidates_seen(tenant_id=tenant_id, **kind)
    lookup = history = None
    if seen is not None:
        history = _history_queries(seen)
        lookup = _signal_lookup(decide, history)
    generation = generation_get(TENANT_CONFIG, tenant_id)
    candidates = playbook_candidates(tenant_id=tenant_id, generation=generation, **kind)
    if lookup is None:
        lookup = _signal_lookup(decide, _history_queries(candidates))
    elif candidates is not seen and _history_queries(candidates) != history:
        # changed since: ``evaluate`` reads the candidates' history itself
        lookup = replace(lookup, history=None)
    return generation, candidates, lookup


def _history_queries(candidates: list[PlaybookCandidate]) -> tuple[HistoryQuery, ...]:
    return history_queries(t for c in candidates for t in c.trigger_thresholds)


def _signal_lookup(decide: DecideInput, history: tuple[HistoryQuery, ...]) -> SignalLookup:
    return signal_lookup(
        tenant_id=decide.tenant_id,
        actor_id=decide.actor_id,
        signal_id=decide.signal["signal_id"],
        limit=RECENT_SIGNALS_LIMIT,
        history=history,
        repo_id=str(decide.request_context.get("repo_id") or ""),
        signal_ts=decide.signal_ts,
    )


def _evaluate(
    decide: DecideInput,
    generation: str,
    candidates: list[PlaybookCandidate],
    lookup: SignalLookup,
    *,
    now: datetime,
    deadline: float | None = None,
) -> Evaluation:
    """``evaluate`` a real decision (fatigue slots reserved) on what ``_candidates_and_lookup`` read."""
    return evaluate(
        decide,
        candidates=candidates,
        now=now,
        reserve=True,
        recent_signals=lookup.recent,
        history=lookup.history,
        deadline=deadline,
        generation=generation,
    )


def _cached_reads(data: DecideInput) -> list[str]:
    """The shared-cache entries a decision reads, read at once (one round trip, NFR-1): the
    tenant's configuration generation, the actor's preferences and pseudonym key."""
    return [
        generation_key(TENANT_CONFIG, data.tenant_id),
        preferences_cache_key(data.tenant_id, data.actor_id),
        key_cache_key(data.tenant_id, data.actor_id),
    ]


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
        playbook_ids=[c.playbook_id for c in result.matched[:PLAYBOOK_IDS_LISTED]],
        action_count=len(result.delivered),
        latency_ms=round(latency_ms, 3),
        degraded_mode=bool(result.degraded_mode),
        **{"mmm.suppressed_count": result.suppressed_count, "mmm.policy_stale": bool(result.policy_stale)},
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
            "playbook_ids": [candidate.playbook_id for candidate in result.matched[:PLAYBOOK_IDS_LISTED]],
            "playbook_count": len(result.matched),
            "action_count": len(result.delivered),
            "suppressed_count": result.suppressed_count,
            "latency_ms": round(seconds * 1000, 3),
            "degraded_mode": result.degraded_mode,
            "policy_stale": result.policy_stale,
        },
    )
    metrics.DECISIONS.labels(tenant_id, data.actor_type).inc()
    metrics.DECISION_LATENCY.labels(tenant_id).observe(seconds)
    for action in result.delivered:
        metrics.ACTIONS.labels(tenant_id, action.type).inc()
        if action.route_reason:  # FR-3 escalation: the surface is one of three
            metrics.ACTIONS_ESCALATED.labels(tenant_id, action.surfaces[0]).inc()
    for record in result.suppressed:
        metrics.ACTIONS_SUPPRESSED.labels(tenant_id, record["reason"].split(":")[0]).inc(
            record.get("count", 1)
        )
