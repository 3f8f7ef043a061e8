"""Replay of stored signals through the decision engine in simulation (backtests).

The same engine steps as a live decision (``decisions.services.evaluate``: context, matching,
experiments, then ``decisions.services.selection``: ranking, composition, the LLM plan, the
policy, preference and quiet-hours gates (the playbooks' own quiet hours too) and fatigue
reservations (their own quotas too), stopping where a live decision stops), fed from memory
instead of the database and peers, so that a tenant's 100,000 signals replay in seconds and
nothing is written:

- each signal is decided at the time its live decision was made (``Decision.created_at``; an
  undecided signal at the time it was stored), in that order;
- fatigue counters and cool-downs live in a private ``LocalFatigueStore`` driven by that simulated
  clock (quotas, windows and cool-downs behave as in Redis); so do the escalation counts of
  playbooks with ``routing.escalation``, with no acknowledgement replayed (a route change only:
  what is delivered and suppressed is the same);
- the recent signals of a decision are the actor's signals stored before it, newest event first
  (as ``recent_signal_metadata`` reads them), kept in memory per actor; the prior signals a count
  trigger counts (issue 15) are the repository's signals stored before it, as the decide's lookup
  reads them (``decisions.engine.thresholds.history_of``), kept in memory per repository;
- a bandit experiment (FR-9) is replayed by Thompson sampling with each signal's own seed from
  the *current* posteriors: the variant its live decision recorded while no outcome has moved
  the posteriors since, else the variant the bandit would choose today;
- the tenant's current policy and each actor's current preferences apply; the LLM gateway is taken
  as available (a breaker open at some past moment is not replayed), IAM roles are those recorded.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from decisions.engine.compose import ProposedAction
from decisions.engine.context import RECENT_SIGNALS_LIMIT, DecisionContext, assemble_context
from decisions.engine.matching import PlaybookCandidate, match_playbooks, trigger_fits
from decisions.engine.policy import PolicyView, PreferencesView
from decisions.engine.prioritise.ranking import rank_templates
from decisions.engine.thresholds import RepoHistory, history_of, history_queries, threshold_of
from decisions.fatigue_store import LocalFatigueStore
from decisions.services.evaluate import DecideInput
from decisions.services.selection import select_actions
from experiments.selectors import apply_experiments
from mmm_project.vocabulary import Severity


class ReplayedContext(DecisionContext):
    """The decision context of a replayed signal (``as_dict()`` is built once, as for any context)."""


NO_PREFERENCES = PreferencesView(
    opt_out_categories=frozenset(), preferred_surfaces=frozenset(), snooze_until=None
)


@dataclass(frozen=True)
class StoredSignal:
    """One stored signal as the replay needs it. ``replay`` False: only recent-signal history."""

    data: DecideInput
    stored_at: datetime
    decided_at: datetime
    replay: bool = True


@dataclass
class Simulated:
    """What one simulated decision would have done."""

    signal: StoredSignal
    fitting: frozenset[str]  # ids of the playbooks whose trigger fit the signal
    matched: tuple[PlaybookCandidate, ...]
    delivered: list[ProposedAction]
    suppressed: list[dict[str, Any]] = field(default_factory=list)


def version_candidate(
    *, playbook_id: str, name: str, version_id: str, version: int, document: dict[str, Any]
) -> tuple[PlaybookCandidate, list[dict[str, Any]]]:
    """A candidate for every trigger of a playbook version, and its triggers (for fitting)."""
    candidate = PlaybookCandidate(
        playbook_id=playbook_id,
        playbook_name=name,
        version_id=version_id,
        version=version,
        trigger_roles=(),
        conditions=tuple(document.get("conditions", ())),
        actions=tuple(document.get("actions", ())),
        limits=dict(document.get("limits") or {}),
        routing=dict(document.get("routing") or {}),
    )
    return candidate, list(document.get("triggers", ()))


class CandidateIndex:
    """The trigger index in memory: the candidates whose triggers fit a signal, as
    ``playbooks.selectors.playbook_candidates`` answers them (fitting triggers' roles, by name)."""

    def __init__(self, versions: Iterable[tuple[PlaybookCandidate, list[dict[str, Any]]]]) -> None:
        self._versions = list(versions)
        self._fitting: dict[tuple[str, str, str], list[PlaybookCandidate]] = {}

    def fitting(self, event_type: str, source: str, severity: str) -> list[PlaybookCandidate]:
        key = (event_type, source, severity)
        found = self._fitting.get(key)
        if found is None:
            rank = Severity.rank(severity)
            found = []
            for candidate, triggers in self._versions:
                fit = [
                    t
                    for t in triggers
                    if trigger_fits(
                        t,
                        event_type=event_type,
                        source=source,
                        severity_rank=rank,
                        min_rank=Severity.rank(t.get("min_severity", "info")),
                    )
                ]
                if fit:
                    roles = tuple(tuple(t.get("actor_roles", ())) for t in fit)
                    # issue 15: the count of each fitting trigger, none when no trigger has one
                    thresholds = tuple(map(threshold_of, fit)) if any("count" in t for t in fit) else ()
                    fields = {"trigger_roles": roles, "trigger_thresholds": thresholds}
                    found.append(PlaybookCandidate(**{**candidate.__dict__, **fields}))
            found.sort(key=lambda c: c.playbook_name)
            self._fitting[key] = found
        return found


def simulate_decision(
    data: DecideInput,
    *,
    candidates: list[PlaybookCandidate],
    policy: PolicyView,
    prefs: PreferencesView,
    recent: list[dict[str, str]],
    now: datetime,
    store: LocalFatigueStore,
    experiments: bool,
    history: RepoHistory | None = None,
) -> tuple[tuple[PlaybookCandidate, ...], list[ProposedAction], list[dict[str, Any]]]:
    """Steps 3 to 9 of one decision, as ``evaluate`` runs them; returns ``(matched, delivered,
    suppressed records)``. Fatigue is reserved in ``store`` (the simulation's own counters)."""
    assembled = assemble_context(
        tenant_id=data.tenant_id,
        actor_id=data.actor_id,
        actor_type=data.actor_type,
        actor_roles=data.roles,
        request_context=data.request_context,
        signal=data.signal,
        signal_ts=data.signal_ts,
        recent_signals=recent,
        policy={
            "quiet_hours": policy.quiet_hours,
            "enabled_action_types": sorted(policy.enabled_action_types),
            "enabled_surfaces": sorted(policy.enabled_surfaces),
            "policy_snapshot_id": policy.snapshot_id,
        },
    )
    context = ReplayedContext(**vars(assembled))
    match = match_playbooks(
        candidates,
        actor_roles=frozenset(data.roles),
        context=context.as_dict(),
        history=history,
        signal_ts=data.signal_ts,
    )
    matched = list(match.matched)
    if experiments and matched:
        team = str(data.request_context.get("team_id") or data.request_context.get("repo_id") or "")
        matched, _ = apply_experiments(
            matched,
            tenant_id=data.tenant_id,
            actor_id=data.actor_id,
            team_id=team,
            seed_key=str(data.signal["signal_id"]),
        )
    ranked = rank_templates(
        matched, context=context, priorities=policy.priorities, signal_ts=data.signal_ts, now=now
    )
    selection = select_actions(
        ranked,
        tenant_id=data.tenant_id,
        actor_id=data.actor_id,
        severity=data.signal["severity"],
        context=context,
        policy=policy,
        prefs=prefs,
        fail_closed=False,
        now=now,
        reserve=True,
        store=store,
    )
    return match.matched, selection.delivered, list(match.errors) + selection.suppressed


class _RecentSignals:
    """Per actor, the signals stored so far, ordered by event time (``ts``); per repository, the
    same signals for count triggers, ordered by ``ts`` too."""

    def __init__(self) -> None:
        self._by_actor: dict[str, list[tuple[datetime, int, dict[str, str]]]] = {}
        self._by_repo: dict[str, list[tuple[datetime, str, str, str, str]]] = {}
        self._seq = 0

    def add(self, signal: StoredSignal) -> None:
        self._seq += 1
        meta = {k: signal.data.signal[k] for k in ("signal_id", "event_type", "severity")}
        bisect.insort(
            self._by_actor.setdefault(signal.data.actor_id, []), (signal.data.signal_ts, self._seq, meta)
        )
        envelope = signal.data.signal
        bisect.insort(
            self._by_repo.setdefault(_repo(signal.data), []),
            (
                signal.data.signal_ts,
                envelope["signal_id"],
                envelope["event_type"],
                envelope["source"],
                envelope["severity"],
            ),
        )

    def history(self, data: DecideInput, candidates: list[PlaybookCandidate]) -> RepoHistory | None:
        """The count triggers' prior signals (``history_of``), None without count triggers."""
        queries = history_queries(t for c in candidates for t in c.trigger_thresholds)
        if not queries:
            return None
        return history_of(
            self._by_repo.get(_repo(data), ()),
            queries,
            signal_id=str(data.signal["signal_id"]),
            signal_ts=data.signal_ts,
        )

    def latest(self, actor_id: str) -> list[dict[str, str]]:
        rows = self._by_actor.get(actor_id, [])
        return [meta for _, _, meta in reversed(rows[-RECENT_SIGNALS_LIMIT:])]


def _repo(data: DecideInput) -> str:
    return str(data.request_context.get("repo_id") or "")


def replay(
    signals: list[StoredSignal],
    *,
    index: CandidateIndex,
    policy: PolicyView,
    preferences: dict[str, PreferencesView],
    experiments: bool,
    progress: Callable[[int, int], None] | None = None,
    every: int = 2000,
) -> Iterable[Simulated]:
    """Decide every ``replay`` signal in the order of its decision time; yield each result.

    ``signals`` may hold history-only signals (``replay=False``) that only feed recent signals.
    ``progress(done, total)`` is called every ``every`` decisions and at the end.
    """
    store = LocalFatigueStore()
    recent = _RecentSignals()
    stored = sorted(signals, key=lambda s: s.stored_at)
    events = sorted((s for s in signals if s.replay), key=lambda s: (s.decided_at, s.stored_at))
    total, position = len(events), 0
    for done, event in enumerate(events, start=1):
        while position < len(stored) and stored[position].stored_at <= event.decided_at:
            recent.add(stored[position])
            position += 1
        data = event.data
        candidates = index.fitting(data.signal["event_type"], data.signal["source"], data.signal["severity"])
        if candidates:
            matched, delivered, suppressed = simulate_decision(
                data,
                candidates=candidates,
                policy=policy,
                prefs=preferences.get(data.actor_id, NO_PREFERENCES),
                recent=recent.latest(data.actor_id),
                now=event.decided_at,
                store=store,
                experiments=experiments,
                history=recent.history(data, candidates),
            )
            yield Simulated(
                event, frozenset(c.playbook_id for c in candidates), matched, delivered, suppressed
            )
        else:
            yield Simulated(event, frozenset(), (), [], [])
        if progress is not None and (done % every == 0 or done == total):
            progress(done, total)
