"""Step 10 of DESIGN.md: write a decision (FR-1, FR-12): the signal, the decision, its actions,
their deliveries and the signed decision receipt, all or nothing, in one statement on PostgreSQL
(``mmm_project.database.bulk_insert``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from decisions.delivery.enrichment import enqueue_enrichment
from decisions.delivery.models import Delivery
from decisions.delivery.services import deliveries_prepare, deliveries_stored
from decisions.engine.matching import PlaybookCandidate
from decisions.intake.services import signal_fields
from decisions.models import Action, Decision, LLMStatus, Signal, SignalStatus
from decisions.services.evaluate import DecideInput, Evaluation
from mmm_project import tracing
from mmm_project.database.bulk_insert import rows_insert
from mmm_project.events import publish_after_commit
from receipts.documents import decision_body
from receipts.models import Receipt
from receipts.services import receipt_prepare, receipt_stored


def decision_persist(
    *,
    data: DecideInput,
    result: Evaluation,
    latency_ms: float,
    latency_warning: bool,
    now: datetime,
    signal_pk: object | None,
) -> Decision:
    """Signal, decision, actions, deliveries and the decision receipt written at once (step 10):
    one statement (``rows_insert``), no savepoint. ``signal_pk``: the stored signal being decided
    (its status becomes ``decided``); None inserts the request's signal, and a concurrent insert of
    the same signal id raises ``IntegrityError`` (the caller answers with that decision). Returns
    the decision with its actions attached in memory (no re-read)."""
    signal_in = data.signal
    signal = None
    if signal_pk is None:
        signal = Signal(
            tenant_id=data.tenant_id,
            signal_id=signal_in["signal_id"],
            **signal_fields(
                envelope={
                    **signal_in,
                    "actor_id": data.actor_id,
                    "actor_type": data.actor_type,
                    "ts": data.signal_ts,
                    "context": data.request_context,
                },
                status=SignalStatus.DECIDED,
            ),
        )
    decision = Decision(
        tenant_id=data.tenant_id,
        actor_id=data.actor_id,
        actor_type=data.actor_type,
        signal_id=signal.pk if signal else signal_pk,
        context=result.context.as_dict(),
        playbooks_fired=_fired(result.matched, result.trigger_counts),
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
    actions = [
        Action(
            tenant_id=data.tenant_id,
            decision=decision,
            playbook_version_id=action.version_id,
            type=action.type,
            surfaces=list(action.surfaces),
            payload=action.payload,
            surface_payloads=action.surface_payloads,
            route_reason=action.route_reason,
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
    ]
    with tracing.span("mmm.delivery", **{"mmm.action_count": len(actions)}):
        deliveries = deliveries_prepare(actions=actions)
    # The signed decision receipt is written with the decision (FR-12 outbox).
    with tracing.span("mmm.receipt"):
        receipt = receipt_prepare(
            build=lambda rid: decision_body(receipt_id=rid, decision=decision, actions=actions, now=now)
        )
    rows = [(Decision, [decision]), (Action, actions), (Delivery, deliveries), (Receipt, [receipt])]
    if signal is not None:
        rows_insert([(Signal, [signal]), *rows])  # one statement: every row or none
    else:  # the stored signal is marked decided by the same statement
        rows_insert(rows, update=(Signal, signal_pk, {"status": SignalStatus.DECIDED, "last_error": ""}))
    # What follows the write runs once it commits (at once unless the caller holds a transaction).
    deliveries_stored(deliveries)
    enqueue_enrichment([str(a.id) for a in actions if a.llm_status == LLMStatus.PENDING])
    receipt_stored(receipt)
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
            "suppressed": result.suppressed_count,
            "degraded_mode": decision.degraded_mode,
            "policy_snapshot_id": decision.policy_snapshot_id,
        },
    )
    return _with_actions(decision, actions)


def _fired(matched: tuple[PlaybookCandidate, ...], counts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{"playbook_id", "playbook_version"}]``, with ``trigger_count`` for a playbook matched by a
    count trigger (issue 15). The entries are the candidates' own (``PlaybookCandidate.fired``,
    shared, never changed: a copy gets the count), as a decision may have 1,000 (NFR-1)."""
    fired = [c.fired for c in matched]
    if counts:
        fired = [
            {**record, "trigger_count": counts[key]} if (key := record["playbook_id"]) in counts else record
            for record in fired
        ]
    return fired


def _with_actions(decision: Decision, actions: list[Action]) -> Decision:
    """``decision`` answering ``decision.actions.all()`` with ``actions`` as written, none with a
    dual-channel approval yet: what ``prefetch_related(*DECISION_ACTIONS)`` would read back."""
    for action in actions:
        Action.dual_channel_approval.related.set_cached_value(action, None)
    listed = decision.actions.all()
    listed._result_cache, listed._prefetch_done = list(actions), True
    decision._prefetched_objects_cache = {Action.decision.field.remote_field.cache_name: listed}
    return decision
