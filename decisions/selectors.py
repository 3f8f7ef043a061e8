"""Reads of decisions and their actions, always scoped to one tenant (NFR-5)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from decisions.models import Action, Decision, Outcome, Signal
from mmm_project.residency import tenant_connection
from mmm_project.tenancy import get_for_tenant
from mmm_project.vocabulary import ActionType, OutcomeResult

# What reading a decision with its actions prefetches: the actions and their approvals (status).
DECISION_ACTIONS = ("actions", "actions__dual_channel_approval")


def decision_get(*, tenant_id: str, decision_id: object) -> Decision:
    """Return one decision of ``tenant_id`` with its actions prefetched.

    Raises:
        NotFound: unknown id, malformed id, or a decision of another tenant (404).
    """
    queryset = Decision.objects.prefetch_related(*DECISION_ACTIONS)
    return get_for_tenant(queryset, tenant_id=tenant_id, pk=decision_id, resource="Decision")


def decision_list(*, tenant_id: str, actor_id: str | None = None) -> QuerySet[Decision]:
    """Return the tenant's decisions, newest first (uses the ``tenant_id, created_at`` index)."""
    queryset = Decision.objects.for_tenant(tenant_id)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    return queryset.order_by("-created_at")


def recent_signal_metadata(*, tenant_id: str, actor_id: str, limit: int) -> list[dict[str, object]]:
    """The actor's latest signals, newest first: metadata only (NFR-3), via (tenant, actor, ts).

    Each is ``{"signal_id", "event_type", "severity", "ts"}`` (``ts`` a datetime).
    """
    rows = (
        Signal.objects.for_tenant(tenant_id)
        .filter(actor_id=actor_id)
        .order_by("-ts")
        .values("signal_id", "event_type", "severity", "ts")[:limit]
    )
    return list(rows)


def recent_incident_metadata(
    *, tenant_id: str, repo_id: str, since: datetime, limit: int
) -> list[dict[str, object]]:
    """The tenant's own ``incident.*`` signals since ``since``, newest first (FR-2 embedded
    default of the Health & Reliability peer): one query, metadata only (NFR-3).

    Each is ``{"incident_id", "status", "severity", "repo_id", "environment", "ts"}``: the signal
    id, the event type's last part (``firing``, ``resolved``), its severity, its context's
    repository and environment. With a ``repo_id``, only incidents of that repository or of no
    repository (tenant-wide) are read (JSON key lookups, on PostgreSQL and SQLite alike).
    """
    rows = Signal.objects.for_tenant(tenant_id).filter(event_type__startswith="incident.", ts__gte=since)
    if repo_id:
        rows = rows.filter(
            Q(context__repo_id=repo_id) | Q(context__repo_id="") | ~Q(context__has_key="repo_id")
        )
    return [
        {
            "incident_id": signal_id,
            "status": event_type.rsplit(".", 1)[-1],
            "severity": severity,
            "repo_id": str(repo or ""),
            "environment": str(environment or ""),
            "ts": ts,
        }
        for signal_id, event_type, severity, ts, repo, environment in rows.order_by("-ts").values_list(
            "signal_id", "event_type", "severity", "ts", "context__repo_id", "context__environment"
        )[:limit]
    ]


@dataclass(frozen=True)
class SignalLookup:
    """What a decide request needs to know about stored signals, read in one query."""

    existing_pk: object | None  # the stored signal with this id, if any
    existing_status: str | None
    recent: list[dict[str, object]]  # the actor's latest signals, newest first (metadata, ``ts``)


# The two reads of ``signal_lookup`` in one round trip; written out because the ORM compiles a
# UNION of two querysets in about a millisecond, on every decide (NFR-1), and refuses a LIMIT in
# one on SQLite. Subqueries in FROM keep it valid on PostgreSQL and SQLite alike; it uses the
# unique index (tenant_id, signal_id) and the index (tenant_id, actor_id, ts).
_SIGNAL_LOOKUP = """
SELECT * FROM (SELECT id, status, signal_id, event_type, severity, ts, 1 AS this FROM {table}
               WHERE tenant_id = %s AND signal_id = %s) AS this_signal
UNION ALL
SELECT * FROM (SELECT id, status, signal_id, event_type, severity, ts, 0 AS this FROM {table}
               WHERE tenant_id = %s AND actor_id = %s ORDER BY ts DESC LIMIT %s) AS recent
"""


def signal_lookup(*, tenant_id: str, actor_id: str, signal_id: str, limit: int) -> SignalLookup:
    """One round trip (``UNION ALL``): the stored signal ``signal_id`` of the tenant, if any (FR-1
    idempotency), and the actor's ``limit`` latest signals (FR-2 context, NFR-3 metadata only)."""
    with tenant_connection().cursor() as cursor:  # the tenant's region (NFR-3)
        cursor.execute(
            _SIGNAL_LOOKUP.format(table=Signal._meta.db_table),
            [tenant_id, signal_id, tenant_id, actor_id, limit],
        )
        rows = cursor.fetchall()
    existing = next((row for row in rows if row[-1]), None)
    latest = sorted((row for row in rows if not row[-1]), key=lambda row: str(row[5]), reverse=True)
    return SignalLookup(
        existing_pk=existing[0] if existing else None,
        existing_status=existing[1] if existing else None,
        recent=[{"signal_id": r[2], "event_type": r[3], "severity": r[4], "ts": r[5]} for r in latest],
    )


def decision_for_signal(*, tenant_id: str, signal_id: str) -> Decision | None:
    """The decision already made for ``(tenant_id, signal_id)``, if any (FR-1 idempotency)."""
    return (
        Decision.objects.for_tenant(tenant_id)
        .filter(signal__signal_id=signal_id)
        .prefetch_related(*DECISION_ACTIONS)
        .first()
    )


# Still being written by the LLM, or suppressed after its safety check: not for a surface.
NOT_SHOWABLE = ("pending", "requesting", "unsafe")


def current_surface_payloads(action: Action) -> dict[str, object]:
    """The action's surface payloads, from its latest LLM revision when it has one."""
    revisions = sorted(action.revisions.all(), key=lambda r: r.revision)
    return revisions[-1].surface_payloads if revisions else action.surface_payloads


def pending_nudges(
    *, tenant_id: str, actor_id: str, surface: str, since: datetime, limit: int
) -> list[Action]:
    """Actions routed to ``surface`` for the actor since ``since`` with no outcome yet.

    Newest decision first; within a decision, the engine's order (``position``).
    """
    actions = (
        Action.objects.for_tenant(tenant_id)
        .filter(decision__actor_id=actor_id, created_at__gte=since, outcomes__isnull=True)
        .exclude(llm_status__in=NOT_SHOWABLE)
        .select_related("decision")
        .prefetch_related("revisions")
        .order_by("-created_at", "position")
    )
    # JSON containment lookups are not portable to SQLite: filter the surface here, stopping at
    # ``limit``; the time window bounds how far the scan can go.
    found: list[Action] = []
    for action in actions.iterator(chunk_size=100):
        if surface in action.surfaces:
            found.append(action)
            if len(found) == limit:
                break
    return found


def tenant_summary(*, tenant_id: str, start: datetime, end: datetime) -> dict[str, object]:
    """Aggregate counts for ``[start, end)`` (spec 11.7): no actor-level detail, no ranking.

    Returns ``{"decisions_total", "actions_total", "actions_by_type", "outcomes_total",
    "outcomes_by_result", "suppressed_by_reason"}``.
    """
    decisions = Decision.objects.for_tenant(tenant_id).filter(created_at__gte=start, created_at__lt=end)
    actions = Action.objects.for_tenant(tenant_id).filter(created_at__gte=start, created_at__lt=end)
    outcomes = Outcome.objects.for_tenant(tenant_id).filter(created_at__gte=start, created_at__lt=end)
    by_type = {t: 0 for t in ActionType.values}
    by_type.update(dict(actions.values_list("type").annotate(n=Count("id")).order_by()))
    by_result = {r: 0 for r in OutcomeResult.values}
    by_result.update(dict(outcomes.values_list("result").annotate(n=Count("id")).order_by()))
    suppressed: Counter[str] = Counter()
    for records in decisions.values_list("suppressed_actions", flat=True).iterator(chunk_size=500):
        suppressed.update(record["reason"] for record in records)
    return {
        "decisions_total": decisions.count(),
        "actions_total": sum(by_type.values()),
        "actions_by_type": by_type,
        "outcomes_total": sum(by_result.values()),
        "outcomes_by_result": by_result,
        "suppressed_by_reason": dict(sorted(suppressed.items())),
    }
