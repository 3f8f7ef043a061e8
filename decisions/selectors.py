"""Reads of decisions and their actions, always scoped to one tenant (NFR-5)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

from django.db.models import Count, Q, QuerySet

from decisions.engine.thresholds import HistoryQuery, RepoHistory
from decisions.models import Action, Decision, Outcome, Signal
from mmm_project.database.checked import as_health_check
from mmm_project.database.prepared import prepared_cursor
from mmm_project.residency import tenant_connection
from mmm_project.tenancy import get_for_tenant
from mmm_project.vocabulary import ActionType, OutcomeResult, Severity

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


def recent_signal_metadata(
    *, tenant_id: str, actor_id: str, limit: int, exclude_signal_id: str | None = None
) -> list[dict[str, object]]:
    """The actor's latest signals, newest first: metadata only (NFR-3), via (tenant, actor, ts).

    Each is ``{"signal_id", "event_type", "severity", "ts"}`` (``ts`` a datetime).
    ``exclude_signal_id``: the signal being decided, when it is stored already (a worker's
    decision): its own row is not one of its recent signals (FR-2).
    """
    rows = Signal.objects.for_tenant(tenant_id).filter(actor_id=actor_id)
    if exclude_signal_id is not None:
        rows = rows.exclude(signal_id=exclude_signal_id)
    rows = rows.order_by("-ts").values("signal_id", "event_type", "severity", "ts")[:limit]
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
    history: RepoHistory | None = None  # for count triggers (``history_queries``), else None


# The reads of ``signal_lookup`` in one round trip; written out because the ORM compiles a
# UNION of two querysets in about a millisecond, on every decide (NFR-1), and refuses a LIMIT in
# one on SQLite. Subqueries in FROM keep it valid on PostgreSQL and SQLite alike; it uses the
# unique index (tenant_id, signal_id) and the index (tenant_id, actor_id, ts). The last column tags
# each row: 1 this signal, 0 the actor's recent ones, 2 + n the n-th history query.
_SIGNAL_LOOKUP = """
SELECT * FROM (SELECT id, status, signal_id, event_type, severity, ts, 1 AS this FROM {table}
               WHERE tenant_id = %s AND signal_id = %s) AS this_signal
UNION ALL
SELECT * FROM (SELECT id, status, signal_id, event_type, severity, ts, 0 AS this FROM {table}
               WHERE tenant_id = %s AND actor_id = %s AND signal_id <> %s
               ORDER BY ts DESC LIMIT %s) AS recent
"""
# One history query (issue 15, count triggers): the repository's latest fitting signals of the
# window before this one, through the index (tenant_id, COALESCE(context ->> 'repo_id', ''), ts);
# ``->>`` is PostgreSQL's and SQLite's (3.38+) alike, as ``substr``.
_HISTORY = """
SELECT * FROM (SELECT id, status, signal_id, event_type, severity, ts, {tag} AS this FROM {table}
               WHERE tenant_id = %s AND COALESCE(context ->> 'repo_id', '') = %s
               AND ts >= %s AND ts <= %s AND signal_id <> %s AND status <> 'failed'{fit}
               ORDER BY ts DESC LIMIT %s) AS history_{tag}
"""


def _history_sql(
    queries: tuple[HistoryQuery, ...], *, tenant_id: str, repo_id: str, signal_id: str, signal_ts: datetime
) -> tuple[list[str], list[object]]:
    """The ``UNION ALL`` branches and parameters of ``queries``, tagged 2, 3, ..."""
    branches, params = [], []
    for number, query in enumerate(queries):
        pattern, source, min_severity = query.key
        fit, fit_params = "", []
        if pattern != "*":
            head = pattern[:-1] if pattern.endswith(".*") else pattern
            fit += " AND substr(event_type, 1, %s) = %s" if pattern.endswith(".*") else " AND event_type = %s"
            fit_params += [len(head), head] if pattern.endswith(".*") else [head]
        if source != "*":
            fit, fit_params = fit + " AND source = %s", [*fit_params, source]
        severities = [v for v in Severity.values if Severity.rank(v) >= Severity.rank(min_severity)]
        if len(severities) < len(Severity.values):
            fit += f" AND severity IN ({', '.join(['%s'] * len(severities))})"
            fit_params += severities
        branches.append(_HISTORY.format(tag=number + 2, table=Signal._meta.db_table, fit=fit))
        since = signal_ts - timedelta(minutes=query.window_minutes)
        window = [tenant_connection().ops.adapt_datetimefield_value(ts) for ts in (since, signal_ts)]
        params += [tenant_id, repo_id, *window, signal_id, *fit_params, query.limit]
    return branches, params


def _history(rows: list[tuple], queries: tuple[HistoryQuery, ...]) -> RepoHistory:
    history: dict[tuple[str, str, str], list[datetime]] = {query.key: [] for query in queries}
    for row in rows:
        if row[-1] >= 2:
            history[queries[row[-1] - 2].key].append(_as_datetime(row[5]))
    return {key: sorted(times, reverse=True) for key, times in history.items()}


def _as_datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def signal_lookup(
    *,
    tenant_id: str,
    actor_id: str,
    signal_id: str,
    limit: int,
    history: tuple[HistoryQuery, ...] = (),
    repo_id: str = "",
    signal_ts: datetime | None = None,
) -> SignalLookup:
    """One round trip (``UNION ALL``): the stored signal ``signal_id`` of the tenant, if any (FR-1
    idempotency), the actor's ``limit`` latest signals (FR-2 context, NFR-3 metadata only), and,
    only when ``history`` names queries (a candidate playbook has a count trigger, issue 15), the
    prior fitting signals of the repository ``repo_id`` before ``signal_ts`` (``history``)."""
    sql, params = (
        _SIGNAL_LOOKUP.format(table=Signal._meta.db_table),
        [
            tenant_id,
            signal_id,
            tenant_id,
            actor_id,
            signal_id,  # a stored signal decided now is not one of its own recent signals
            limit,
        ],
    )
    if history and signal_ts is not None:
        branches, more = _history_sql(
            history, tenant_id=tenant_id, repo_id=repo_id, signal_id=signal_id, signal_ts=signal_ts
        )
        sql, params = "UNION ALL".join([sql, *branches]), params + more
    connection = tenant_connection()  # the tenant's region (NFR-3)

    def read() -> list[tuple]:
        with prepared_cursor(connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # The request's first statement: it checks a persistent connection (no ``SELECT 1`` before it).
    rows = as_health_check(connection, read)
    existing = next((row for row in rows if row[-1] == 1), None)
    # ``ts``: datetimes (PostgreSQL) or ISO text (SQLite's raw rows), one kind per result
    latest = sorted((row for row in rows if row[-1] == 0), key=itemgetter(5), reverse=True)
    return SignalLookup(
        existing_pk=existing[0] if existing else None,
        existing_status=existing[1] if existing else None,
        recent=[{"signal_id": r[2], "event_type": r[3], "severity": r[4], "ts": r[5]} for r in latest],
        history=_history(rows, history) if history and signal_ts is not None else None,
    )


def repo_signal_history(
    *, tenant_id: str, repo_id: str, signal_id: str, signal_ts: datetime, queries: tuple[HistoryQuery, ...]
) -> RepoHistory:
    """The history queries of ``signal_lookup`` on their own (a worker's decision of a stored
    signal, a dry run, ``triggers/evaluate``): ``{key: [ts, ...]}``, newest first; no query
    without ``queries``."""
    if not queries:
        return {}
    branches, params = _history_sql(
        queries, tenant_id=tenant_id, repo_id=repo_id, signal_id=signal_id, signal_ts=signal_ts
    )
    with tenant_connection().cursor() as cursor:  # the tenant's region (NFR-3)
        cursor.execute("UNION ALL".join(branches), params)
        return _history(cursor.fetchall(), queries)


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
