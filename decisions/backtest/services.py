"""Backtests of a playbook version over the tenant's stored signals (issue 15).

``backtest_start`` (``POST /v1/mmm/playbooks/{id}/backtest``) checks the request, keeps the
backtest's state in the cache and enqueues ``backtest.run``; the task runs ``backtest_run``, which
replays the window through the engine in simulation (``decisions.backtest.simulation``) with the
tested version in place of its playbook's published one, alongside every other published playbook,
and keeps the report with the state for a day (``BACKTEST_TTL_SECONDS``). ``playbook_backtest``
does the work synchronously (``manage.py backtest_playbook``, the benchmark). Nothing is written to
the database, no fatigue counter moves.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from decisions.backtest.report import BacktestReport
from decisions.backtest.simulation import CandidateIndex, StoredSignal, replay, version_candidate
from decisions.engine.policy import PreferencesView
from decisions.models import Signal, SignalStatus
from decisions.services.evaluate import DecideInput
from experiments.selectors import active_experiments_by_playbook
from mmm_project.auth.principal import Principal
from mmm_project.background.queueing import enqueue
from mmm_project.errors import ApplicationError, NotFound
from playbooks.models import Playbook, PlaybookStatus, PlaybookVersion
from playbooks.services import raise_problems, version_document
from playbooks.spec import validate_playbook
from preferences.models import ActorPreferences
from preferences.selectors import muted_playbooks, tenant_policy_view

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 14
MAX_DAYS = 30
MAX_SIGNALS = 250_000  # about 2.5 minutes of simulation on 2 cores (bench/backtest.py: 100,000 in <60 s)
HISTORY = timedelta(days=1)  # signals before the window, read only as the first decisions' recent signals
BACKTEST_TTL_SECONDS = 24 * 3600  # the state and report are kept for a day
PROGRESS_EVERY = 5000
_FIELDS = (
    "signal_id",
    "actor_id",
    "actor_type",
    "source",
    "event_type",
    "severity",
    "ts",
    "context",
    "received_at",
    "decision__created_at",
    "decision__context__actor__roles",
)


def _key(backtest_id: str) -> str:
    return f"mmm:backtest:{backtest_id}"


def stored_signals(*, tenant_id: str, start: datetime, end: datetime) -> list[StoredSignal]:
    """The tenant's signals stored in ``[start - HISTORY, end)``, failed ones excepted; those before
    ``start`` only as history. Roles are the ones the live decision recorded, when it has one."""
    rows = (
        Signal.objects.for_tenant(tenant_id)
        .filter(received_at__gte=start - HISTORY, received_at__lt=end)
        .exclude(status=SignalStatus.FAILED)
        .values_list(*_FIELDS)
        .order_by()
    )
    out = []
    for (
        signal_id,
        actor,
        actor_type,
        source,
        event_type,
        severity,
        ts,
        context,
        stored,
        decided,
        roles,
    ) in rows.iterator(chunk_size=5000):
        context = context or {}
        data = DecideInput(
            tenant_id=tenant_id,
            actor_id=actor,
            actor_type=actor_type,
            roles=tuple(roles if isinstance(roles, list) else context.get("roles", [])),
            request_context={k: v for k, v in context.items() if k != "roles"},
            signal={
                "signal_id": signal_id,
                "source": source,
                "event_type": event_type,
                "severity": severity,
                "payload": {},
            },
            signal_ts=ts,
        )
        out.append(
            StoredSignal(data=data, stored_at=stored, decided_at=decided or stored, replay=stored >= start)
        )
    return out


def playbook_backtest(
    *,
    tenant_id: str,
    playbook: Playbook,
    version: PlaybookVersion,
    start: datetime,
    end: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Replay ``[start, end)`` with ``version`` of ``playbook`` and the other published playbooks.

    Returns the report (``BacktestReport.as_dict``) with ``playbook_id``, ``name``, ``version``,
    ``window`` and ``elapsed_seconds``. Writes nothing.
    """
    started = time.perf_counter()
    published = (
        Playbook.objects.for_tenant(tenant_id)
        .filter(status=PlaybookStatus.PUBLISHED, published_version__isnull=False)
        .exclude(pk=playbook.pk)
        .select_related("published_version")
    )
    names = {str(p.id): p.name for p in published}
    versions = [(p, p.published_version) for p in published] + [(playbook, version)]
    index = CandidateIndex(
        version_candidate(
            playbook_id=str(p.id),
            name=p.name,
            version_id=str(v.id),
            version=v.version,
            document={
                "triggers": v.triggers,
                "conditions": v.conditions,
                "actions": v.actions,
                "limits": v.limits,
                "routing": v.routing,
            },
        )
        for p, v in versions
    )
    policy = tenant_policy_view(tenant_id=tenant_id)
    preferences = {
        prefs.actor_id: _preferences_view(prefs) for prefs in ActorPreferences.objects.for_tenant(tenant_id)
    }
    report = BacktestReport(playbook_id=str(playbook.id), timezone=policy.timezone, names=names)
    signals = stored_signals(tenant_id=tenant_id, start=start, end=end)
    for result in replay(
        signals,
        index=index,
        policy=policy,
        preferences=preferences,
        experiments=bool(active_experiments_by_playbook(tenant_id=tenant_id)),
        progress=progress,
        every=PROGRESS_EVERY,
    ):
        report.add(result)
    return {
        "playbook_id": str(playbook.id),
        "name": playbook.name,
        "version": version.version,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        **report.as_dict(),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }


def _preferences_view(prefs: ActorPreferences) -> PreferencesView:
    return PreferencesView(
        opt_out_categories=frozenset(prefs.opt_out_categories),
        preferred_surfaces=frozenset(prefs.preferred_surfaces),
        snooze_until=prefs.snooze_until,
        muted_playbooks=muted_playbooks(prefs),
    )


def backtest_version(*, tenant_id: str, playbook: Playbook, version: int | None) -> PlaybookVersion:
    """The version to test (default: the latest, draft or published), valid in structure.

    Raises ApplicationError ``VALIDATION_ERROR``: unknown ``version``, or the version's problems.
    """
    number = version or playbook.latest_version
    found = PlaybookVersion.objects.for_tenant(tenant_id).filter(playbook=playbook, version=number).first()
    if found is None:
        raise ApplicationError(
            "VALIDATION_ERROR", "Unknown playbook version.", fields={"version": [f"no version {number}"]}
        )
    spec, problems = validate_playbook(version_document(playbook, found))
    if spec is None:
        raise_problems(problems)
    return found


def backtest_start(
    *, principal: Principal, playbook: Playbook, version: int | None = None, days: int = DEFAULT_DAYS
) -> dict[str, Any]:
    """Check and enqueue a backtest of ``playbook`` over the last ``days`` (1-30) days.

    Returns the backtest's state (``status`` ``queued``, or already ``succeeded`` when tasks run
    in-process). Raises ApplicationError: ``VALIDATION_ERROR`` (``version``, or ``days`` when the
    window holds over ``MAX_SIGNALS`` signals); ``NOT_READY`` (503) when the broker refuses the task.
    """
    tenant_id = principal.tenant_id
    tested = backtest_version(tenant_id=tenant_id, playbook=playbook, version=version)
    end = timezone.now()
    start = end - timedelta(days=days)
    count = Signal.objects.for_tenant(tenant_id).filter(received_at__gte=start, received_at__lt=end).count()
    if count > MAX_SIGNALS:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "The window holds too many signals.",
            fields={"days": [f"{count} signals in {days} days; at most {MAX_SIGNALS}: shorten the window"]},
        )
    backtest_id = str(uuid.uuid4())
    state = {
        "backtest_id": backtest_id,
        "tenant_id": tenant_id,
        "playbook_id": str(playbook.id),
        "version": tested.version,
        "status": "queued",
        "progress": {"done": 0, "total": count},
        "window": {"start": start.isoformat(), "end": end.isoformat(), "days": days},
        "created_at": end.isoformat(),
        "finished_at": None,
        "error": None,
        "result": None,
    }
    cache.set(_key(backtest_id), state, timeout=BACKTEST_TTL_SECONDS)
    if not enqueue("backtest.run", [backtest_id], run_eagerly=True):
        cache.delete(_key(backtest_id))
        raise ApplicationError(
            "NOT_READY",
            "The backtest could not be queued.",
            status_code=503,
            fields={"broker": ["unavailable"]},
        )
    return backtest_get(principal=principal, backtest_id=backtest_id)


def backtest_get(*, principal: Principal, backtest_id: str) -> dict[str, Any]:
    """The backtest's state and, once ``succeeded``, its report. Raises NotFound: unknown, expired
    (kept a day) or another tenant's."""
    state = cache.get(_key(str(backtest_id)))
    if state is None or state["tenant_id"] != principal.tenant_id:
        raise NotFound("Backtest")
    return state


def _save(state: dict[str, Any]) -> None:
    cache.set(_key(state["backtest_id"]), state, timeout=BACKTEST_TTL_SECONDS)


def backtest_run(*, backtest_id: str) -> str:
    """Run a queued backtest (the ``backtest.run`` task); return its final status, or ``skipped``
    when it is unknown, expired or not queued (a redelivered task). A failure is recorded on the
    state (``failed`` with the error's class), never raised."""
    state = cache.get(_key(backtest_id))
    if state is None or state["status"] != "queued":
        return "skipped"
    state["status"] = "running"
    _save(state)

    def progress(done: int, total: int) -> None:
        state["progress"] = {"done": done, "total": total}
        _save(state)

    try:
        tenant_id = state["tenant_id"]
        playbook = Playbook.objects.for_tenant(tenant_id).get(pk=state["playbook_id"])
        version = PlaybookVersion.objects.get(playbook=playbook, version=state["version"])
        state["result"] = playbook_backtest(
            tenant_id=tenant_id,
            playbook=playbook,
            version=version,
            start=datetime.fromisoformat(state["window"]["start"]),
            end=datetime.fromisoformat(state["window"]["end"]),
            progress=progress,
        )
        state["status"] = "succeeded"
    except Exception as exc:  # recorded on the state for the admin to see
        logger.exception("backtest failed", extra={"backtest_id": backtest_id})
        state["status"], state["error"] = "failed", type(exc).__name__
    state["finished_at"] = timezone.now().isoformat()
    _save(state)
    return state["status"]
