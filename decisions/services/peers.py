"""What a decision needs from peers (FR-2, FR-11, NFR-1, NFR-6): policy, quiet hours, recent
signals and, when a candidate playbook uses them, the tenant's incidents.

Each configured peer is asked in parallel, each within its own timeout; an unconfigured peer
uses the embedded default (the stored tenant policy, the policy's quiet hours, this service's
own signals). Failures degrade exactly as NFR-6 says:

- Policy down: a safety-critical tenant fails closed (no actions); others use the last snapshot
  if it is at most 5 minutes old (``policy_stale``); otherwise ``POLICY_UNAVAILABLE`` (503), with
  a receipt of the refusal.
- Data Governance down: quiet hours 22:00-06:00 in the tenant's zone.
- UBI down: no recent signals.
- Health & Reliability down: no incidents.
Any of these sets ``degraded_mode`` on the decision and its receipt, logs a line and counts it.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from decisions.engine.overrides import parse_exceptions, parse_windows
from decisions.engine.policy import PolicyView
from mmm_project import metrics
from mmm_project.clients import (
    PeerRejected,
    PeerUnavailable,
    data_governance,
    gold_standards,
    health_reliability,
    iam,
    policy,
    ubi,
)
from mmm_project.errors import ApplicationError
from mmm_project.privacy import actor_ref
from receipts.documents import refusal_body
from receipts.services import receipt_create

logger = logging.getLogger(__name__)

POLICY_STALE_LIMIT_SECONDS = 300  # FR-11: a stale snapshot is usable for at most 5 minutes
UBI_CACHE_SECONDS = 30  # NFR-1
DATA_GOVERNANCE_CACHE_SECONDS = 60
DEFAULT_QUIET_HOURS = (22, 6)  # NFR-6: when Data Governance is unavailable
PEER_ERRORS = (PeerUnavailable, PeerRejected)


@dataclass(frozen=True)
class PeerInputs:
    roles: tuple[str, ...] | None  # from the IAM when configured, else None (the request's)
    policy: PolicyView
    recent_signals: list[dict[str, str]] | None  # None: use this service's own signals
    incidents: list[dict[str, str]] | None  # None: not asked for, or use the incident.* signals
    fail_closed: bool
    policy_stale: bool
    degraded: tuple[str, ...]  # the peers that were not available


_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    # One pool per process, created on first use (after any fork), reused by every decision.
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mmm-peer")
    return _executor


def _cached_peer(key: str, ask: Callable[[], Any], *, seconds: int, peer: str, tenant_id: str) -> Any:
    """The cached answer under ``key``, else ``ask()`` (cached ``seconds``); None when the peer
    cannot answer (logged as unavailable: the decision degrades, NFR-6)."""
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        answer = ask()
    except PEER_ERRORS as exc:
        logger.warning("%s unavailable", peer, extra={"tenant_id": tenant_id, "error": str(exc)})
        return None
    cache.set(key, answer, timeout=seconds)
    return answer


def _fetch_quiet_hours(tenant_id: str) -> dict[str, Any] | None:
    return _cached_peer(
        f"dg:quiet:{tenant_id}",
        lambda: data_governance.quiet_hours(tenant_id=tenant_id),
        seconds=DATA_GOVERNANCE_CACHE_SECONDS,
        peer="data governance",
        tenant_id=tenant_id,
    )


def _fetch_recent(tenant_id: str, actor_id: str, limit: int) -> list[dict[str, str]] | None:
    return _cached_peer(
        f"ubi:recent:{tenant_id}:{actor_ref(tenant_id, actor_id)}",
        lambda: ubi.recent_signals(tenant_id=tenant_id, actor_id=actor_id, limit=limit),
        seconds=UBI_CACHE_SECONDS,
        peer="ubi",
        tenant_id=tenant_id,
    )


def _fetch_incidents(tenant_id: str, repo_id: str, limit: int) -> list[dict[str, str]] | None:
    return _cached_peer(
        f"hr:incidents:{tenant_id}:{repo_id}",
        lambda: health_reliability.active_incidents(tenant_id=tenant_id, repo_id=repo_id, limit=limit),
        seconds=UBI_CACHE_SECONDS,  # FR-2: contexts may be cached 30 s
        peer="health & reliability",
        tenant_id=tenant_id,
    )


def _refuse(tenant_id: str, actor_id: str, actor_type: str, signal_id: str) -> ApplicationError:
    receipt_create(
        build=lambda rid: refusal_body(
            receipt_id=rid,
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type=actor_type,
            signal_id=signal_id,
            reason="policy_unavailable",
            now=timezone.now(),
        )
    )
    return ApplicationError(
        "POLICY_UNAVAILABLE", "The policy service is unavailable; no decision was made.", status_code=503
    )


def _iam_decision(tenant_id: str, actor_id: str) -> tuple[bool, list[str]] | None:
    try:
        return iam.decision(tenant_id=tenant_id, actor_id=actor_id, action="mmm.decide")
    except PEER_ERRORS as exc:
        logger.warning("iam unavailable", extra={"tenant_id": tenant_id, "error": str(exc)})
        return None


def _fetch_standards(tenant_id: str, repo_id: str) -> list[str] | None:
    try:
        return gold_standards.restrictions(tenant_id=tenant_id, repo_id=repo_id)
    except PEER_ERRORS as exc:
        logger.warning("gold standards unavailable", extra={"tenant_id": tenant_id, "error": str(exc)})
        return None


def _with_overrides(view: PolicyView, snapshot: policy.PolicySnapshot, tenant_id: str) -> PolicyView:
    """Add the snapshot's override windows and exception approvals to the view (FR-11).

    An entry that does not parse is skipped with a warning: it can neither lift nor add anything.
    """
    windows, exceptions = list(view.override_windows), list(view.exception_approvals)
    for parse, raw, out in (
        (parse_windows, snapshot.override_windows, windows),
        (parse_exceptions, snapshot.exception_approvals, exceptions),
    ):
        for entry in raw:
            try:
                out.extend(parse([entry]))
            except (KeyError, TypeError, ValueError, AttributeError):
                logger.warning("policy override entry malformed; skipped", extra={"tenant_id": tenant_id})
    return replace(view, override_windows=tuple(windows), exception_approvals=tuple(exceptions))


def gather(
    *,
    tenant_id: str,
    actor_id: str,
    actor_type: str,
    signal_id: str,
    local_policy: PolicyView,
    policy_context: dict[str, Any],
    limit: int,
    incidents_repo: str | None = None,
) -> PeerInputs:
    """Ask the configured peers in parallel and apply NFR-6. Raises ApplicationError (503).

    ``incidents_repo``: ask Health & Reliability for the incidents of this repository ("" for the
    tenant's) when it is configured; None (no candidate playbook uses incidents): do not ask.
    """
    calls: dict[str, tuple[Any, ...]] = {}
    if iam.client.configured:
        calls["iam"] = (_iam_decision, tenant_id, actor_id)
    if gold_standards.client.configured:
        calls["gold_standards"] = (_fetch_standards, tenant_id, str(policy_context.get("repo_id", "")))
    if policy.client.configured:
        calls["policy"] = (policy.snapshot_fetch, tenant_id, policy_context)
    if data_governance.client.configured:
        calls["data_governance"] = (_fetch_quiet_hours, tenant_id)
    if ubi.client.configured:
        calls["ubi"] = (_fetch_recent, tenant_id, actor_id, limit)
    if incidents_repo is not None and health_reliability.client.configured:
        calls["health_reliability"] = (_fetch_incidents, tenant_id, incidents_repo, limit)
    if len(calls) > 1:  # in parallel: the slowest peer, not their sum, bounds the wait (NFR-1)
        # Each call runs in a copy of this context, so the pool's threads continue the caller's
        # trace (W3C Trace Context on the peer requests, FR-15); one copy per call, as a context
        # cannot be entered by two threads at once.
        futures = {
            name: _pool().submit(contextvars.copy_context().run, *call) for name, call in calls.items()
        }
        results = {name: future.result() for name, future in futures.items()}
    else:
        results = {name: call[0](*call[1:]) for name, call in calls.items()}

    roles = None
    if "iam" in results:
        verdict = results["iam"]
        if verdict is None:  # NFR-6: without the IAM the actor cannot be authorised
            raise ApplicationError("IAM_UNAVAILABLE", "The identity service is unavailable.", status_code=503)
        allowed, iam_roles = verdict
        if not allowed:
            raise ApplicationError(
                "FORBIDDEN", "The identity service does not allow MMM for this actor.", status_code=403
            )
        roles = tuple(iam_roles)
    view, degraded, fail_closed, stale = local_policy, [], False, False
    if "gold_standards" in results:
        standards = results["gold_standards"]
        if standards is None:  # FR-11: without the standards, Mirror actions only
            degraded.append("gold_standards")
            view = replace(view, enabled_action_types=view.enabled_action_types & {"mirror"})
        else:
            view = replace(view, restrictions=view.restrictions | frozenset(standards))
    if "policy" in results:
        fetch: policy.PolicyFetch = results["policy"]
        snapshot = fetch.snapshot
        if fetch.unavailable:
            degraded.append("policy")
            if local_policy.safety_critical:
                fail_closed = True  # FR-11: no actions, stale snapshot or not
            elif snapshot is None or fetch.age_seconds > POLICY_STALE_LIMIT_SECONDS:
                raise _refuse(tenant_id, actor_id, actor_type, signal_id)
            else:
                stale = True  # FR-11: the last snapshot, at most 5 minutes old
        if snapshot is not None:
            view = replace(
                view,
                snapshot_id=snapshot.policy_snapshot_id,
                version_ids=snapshot.policy_version_ids or (snapshot.policy_snapshot_id,),
                restrictions=view.restrictions | frozenset(snapshot.restrictions),
                enabled_action_types=view.enabled_action_types if snapshot.allowed else frozenset(),
            )
            view = _with_overrides(view, snapshot, tenant_id)
    if "data_governance" in results:
        hours = results["data_governance"]
        if hours is None:
            degraded.append("data_governance")
            start, end = DEFAULT_QUIET_HOURS
            view = replace(view, quiet_hours_start=start, quiet_hours_end=end)
        else:
            view = replace(
                view,
                quiet_hours_start=hours["start"],
                quiet_hours_end=hours["end"],
                timezone=hours["timezone"],
            )
    recent = None
    if "ubi" in results:
        recent = results["ubi"]
        if recent is None:
            degraded.append("ubi")
            recent = []
    incidents = results.get("health_reliability")
    if "health_reliability" in results and incidents is None:
        degraded.append("health_reliability")
        incidents = []
    for peer in degraded:
        metrics.DEGRADED_DECISIONS.labels(tenant_id, peer).inc()
    if degraded:
        logger.warning(
            "decision in degraded mode",
            extra={
                "tenant_id": tenant_id,
                "peers": degraded,
                "fail_closed": fail_closed,
                "policy_stale": stale,
            },
        )
    return PeerInputs(
        roles=roles,
        policy=view,
        recent_signals=recent,
        incidents=incidents,
        fail_closed=fail_closed,
        policy_stale=stale,
        degraded=tuple(degraded),
    )
