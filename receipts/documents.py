"""Receipt bodies (FR-12, NFR-4): what each kind of receipt attests, before signing.

Every body carries the ERIS fields (``receipt_id``, ``gate_id="mmm"``, ``schema_version``,
``policy_version_ids``, ``snapshot_hash``, ``timestamp_utc``, ``timestamp_monotonic_ms``,
``evaluation_point``, ``inputs``, ``decision_status``, ``decision_rationale``, ``decision_badges``,
``result``, ``actor_repo_id``, ``actor_machine_fingerprint``, ``actor_type``, ``evidence_handles``,
``degraded``) plus the engine's own (``kind``, ``tenant_id``, ``actor_id``, ``decision_id``,
``playbooks``, ``proposed_actions``, ``suppressed_actions``, ``llm_safety``, ``risk_score``,
``risk_flags``, ``safety_checks_passed``, and for admin changes ``before``/``after``). The shape is
pinned by ``receipts/schema/receipt.schema.json``.

No payload text, free-text reasons, e-mail addresses, names or secrets go into a receipt: only
ids, types, surfaces and reason codes.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

from mmm_project.vocabulary import Suppression
from receipts.canonical import sha256_digest
from receipts.redaction import REDACTED, redact  # noqa: F401 - REDACTED is part of this module's API
from receipts.risk import SEVERITY_RANK, TYPE_RISK, risk_assessment  # noqa: F401 - this module's API too

# Playbooks listed in a decision receipt, at most (the rest counted in ``playbooks_matched``).
RECEIPT_PLAYBOOKS_LIMIT = 50

GATE_ID = "mmm"
SCHEMA_VERSION = "1.0"


def _base(
    *,
    receipt_id: str,
    kind: str,
    tenant_id: str,
    actor_id: str,
    actor_type: str,
    evaluation_point: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "receipt_id": receipt_id,
        "gate_id": GATE_ID,
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "tenant_id": tenant_id,
        "actor_id": actor_id,
        "actor_type": actor_type,
        "timestamp_utc": now.isoformat(),
        "timestamp_monotonic_ms": time.monotonic_ns() // 1_000_000,
        "evaluation_point": evaluation_point,
        # The engine collects no machine data (NFR-3); the field is kept for the ERIS schema.
        "actor_machine_fingerprint": None,
        "llm_safety": None,
        # Neutral values; each kind overrides what it attests.
        "decision_id": None,
        "policy_version_ids": [],
        "actor_repo_id": None,
        "evidence_handles": [],
        "degraded": False,
        "playbooks": [],
        "proposed_actions": [],
        "suppressed_actions": [],
        "risk_score": 0.0,
        "risk_flags": [],
        "safety_checks_passed": True,
    }


def _decision_reference(decision: Any) -> dict[str, Any]:
    """What ties a receipt to a decision: its id, the policy it ran under, its context's hash."""
    return {
        "decision_id": str(decision.id),
        "policy_version_ids": list(decision.policy_version_ids),
        "policy_snapshot_id": decision.policy_snapshot_id,
        "snapshot_hash": sha256_digest(decision.context),
    }


def decision_body(*, receipt_id: str, decision: Any, actions: list[Any], now: datetime) -> dict[str, Any]:
    """The decision receipt: inputs, playbooks fired, proposed and suppressed actions, risk."""
    context = decision.context
    signal = context.get("signal", {})
    suppressed = [
        {key: record.get(key) for key in ("type", "playbook_id", "playbook_version", "reason")}
        | ({"count": record["count"]} if "count" in record else {})
        for record in decision.suppressed_actions
    ]
    proposed = [
        {"action_id": str(a.id), "type": a.type, "surfaces": list(a.surfaces)}
        | ({"route_reason": a.route_reason} if a.route_reason else {})  # FR-3: escalation
        for a in actions
    ]
    dual = any(a.requires_dual_channel for a in actions)
    score, flags, passed = risk_assessment(
        action_types=[a.type for a in actions],
        dual_channel=dual,
        severity=signal.get("severity", "info"),
        degraded=decision.degraded_mode,
        policy_stale=decision.policy_stale,
    )
    reasons: Counter[str] = Counter()
    for record in suppressed:
        reasons[record["reason"]] += record.get("count", 1)
    rationale = f"{len(proposed)} action(s) proposed from {len(decision.playbooks_fired)} playbook(s)"
    if reasons:
        rationale += "; suppressed: " + ", ".join(f"{reason} x{n}" for reason, n in sorted(reasons.items()))
    badges = sorted({a.type for a in actions})
    badges += [
        name
        for name, on in (
            ("degraded", decision.degraded_mode),
            ("policy_stale", decision.policy_stale),
            ("latency_warning", decision.latency_warning),
            ("latency_budget", Suppression.LATENCY_BUDGET in reasons),
            ("policy_override", bool(decision.policy_overrides)),  # FR-11: a window or exception lifted
            ("escalated", any(p.get("route_reason") for p in proposed)),  # FR-3: a route change
        )
        if on
    ]
    evidence = sorted(
        {link for a in actions for link in a.payload.get("evidence_links", [])}
        | {signal.get("signal_id", "")} - {""}
    )
    return {
        **_base(
            receipt_id=receipt_id,
            kind="decision",
            tenant_id=decision.tenant_id,
            actor_id=decision.actor_id,
            actor_type=decision.actor_type,
            evaluation_point="decide",
            now=now,
        ),
        **_decision_reference(decision),
        "inputs": {
            "signal_id": signal.get("signal_id"),
            "source": signal.get("source"),
            "event_type": signal.get("event_type"),
            "severity": signal.get("severity"),
            "recent_signal_ids": [s["signal_id"] for s in context.get("recent_signals", [])],
        },
        "decision_status": "actions_proposed" if proposed else "no_action",
        "decision_rationale": rationale,
        "decision_badges": badges,
        "result": "proposed" if proposed else "none",
        "actor_repo_id": context.get("context", {}).get("repo_id") or None,
        "evidence_handles": evidence,
        "degraded": decision.degraded_mode,
        # Bounded (NFR-1): the decision row keeps every matched playbook; the receipt the first ones.
        "playbooks": list(decision.playbooks_fired[:RECEIPT_PLAYBOOKS_LIMIT]),
        "playbooks_matched": len(decision.playbooks_fired),
        "experiment_assignments": dict(decision.experiment_assignments),
        "proposed_actions": proposed,
        "suppressed_actions": suppressed,
        "policy_overrides": list(decision.policy_overrides),
        "risk_score": score,
        "risk_flags": flags,
        "safety_checks_passed": passed,
    }


def outcome_body(*, receipt_id: str, outcome: Any, decision: Any, now: datetime) -> dict[str, Any]:
    """The outcome receipt: which action, what result; a free-text reason is never copied."""
    context = decision.context
    return {
        **_base(
            receipt_id=receipt_id,
            kind="outcome",
            tenant_id=outcome.tenant_id,
            actor_id=outcome.actor_id,
            actor_type=decision.actor_type,
            evaluation_point="outcome",
            now=now,
        ),
        **_decision_reference(decision),
        "inputs": {
            "action_id": str(outcome.action_id),
            "action_type": outcome.action_type,
            "reason_provided": bool(outcome.reason),
        },
        "decision_status": "outcome_recorded",
        "decision_rationale": f"{outcome.action_type} action reported {outcome.result}",
        "decision_badges": [outcome.action_type],
        "result": outcome.result,
        "actor_repo_id": context.get("context", {}).get("repo_id") or None,
        "evidence_handles": [str(outcome.action_id)],
        # Bounded (NFR-1): the decision row keeps every matched playbook; the receipt the first ones.
        "playbooks": list(decision.playbooks_fired[:RECEIPT_PLAYBOOKS_LIMIT]),
        "playbooks_matched": len(decision.playbooks_fired),
    }


def admin_config_body(
    *,
    receipt_id: str,
    tenant_id: str,
    actor_id: str,
    resource_type: str,
    resource_id: str,
    operation: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """An admin change (FR-13): before and after state, secrets redacted."""
    before, after = redact(before), redact(after)
    return {
        **_base(
            receipt_id=receipt_id,
            kind="admin_config",
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type="human",
            evaluation_point="admin",
            now=now,
        ),
        "snapshot_hash": sha256_digest({"before": before, "after": after}),
        "inputs": {"resource_type": resource_type, "resource_id": resource_id, "operation": operation},
        "decision_status": "config_changed",
        "decision_rationale": f"{operation} {resource_type}",
        "decision_badges": [resource_type, operation],
        "result": operation,
        "evidence_handles": [resource_id],
        "before": before,
        "after": after,
    }


def deletion_body(
    *, receipt_id: str, tenant_id: str, reason: str, counts: dict[str, int], now: datetime
) -> dict[str, Any]:
    """A deletion (NFR-3): which kinds of rows went and how many, never their content."""
    return {
        **_base(
            receipt_id=receipt_id,
            kind="deletion",
            tenant_id=tenant_id,
            actor_id="system",
            actor_type="ai_agent",
            evaluation_point="deletion",
            now=now,
        ),
        "snapshot_hash": sha256_digest(counts),
        "inputs": {"reason": reason, "counts": dict(counts)},
        "decision_status": "deleted",
        "decision_rationale": f"{reason}: " + ", ".join(f"{n} {name}" for name, n in sorted(counts.items())),
        "decision_badges": [reason],
        "result": "deleted",
    }


def refusal_body(
    *,
    receipt_id: str,
    tenant_id: str,
    actor_id: str,
    actor_type: str,
    signal_id: str,
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """No decision was made (FR-11: the Policy service unavailable past the stale limit)."""
    return {
        **_base(
            receipt_id=receipt_id,
            kind="decision",
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type=actor_type,
            evaluation_point="decide",
            now=now,
        ),
        "snapshot_hash": sha256_digest({"signal_id": signal_id, "reason": reason}),
        "inputs": {"signal_id": signal_id},
        "decision_status": "refused",
        "decision_rationale": f"no decision: {reason}",
        "decision_badges": ["degraded", reason],
        "result": "refused",
        "evidence_handles": [signal_id],
        "degraded": True,
        "safety_checks_passed": False,
    }


def enrichment_body(
    *,
    receipt_id: str,
    action: Any,
    decision: Any,
    result: str,
    safety: dict[str, Any] | None,
    now: datetime,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """LLM enrichment of an action (FR-5, NFR-4): safety verdict, result, ``llm_provenance``."""
    passed = safety is None or safety.get("status") in ("pass", "warn")
    return {
        **_base(
            receipt_id=receipt_id,
            kind="decision",
            tenant_id=action.tenant_id,
            actor_id=decision.actor_id,
            actor_type=decision.actor_type,
            evaluation_point="enrichment",
            now=now,
        ),
        **_decision_reference(decision),
        "inputs": {"action_id": str(action.id), "action_type": action.type},
        "decision_status": "enrichment_" + result,
        "decision_rationale": f"LLM enrichment of a {action.type} action: {result}",
        "decision_badges": [action.type, "llm"],
        "result": result,
        "evidence_handles": [str(action.id)],
        "llm_safety": safety,
        "llm_provenance": provenance,
        "risk_flags": list((safety or {}).get("risk_flags", [])),
        "safety_checks_passed": passed and (provenance or {}).get("safety_verdict") != "fail",
    }
