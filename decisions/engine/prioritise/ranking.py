"""The matched playbooks' action templates in delivery order (FR-7, NFR-1), nothing rendered.

A heap, so that a decision that stops after its first batch never sorts the rest; each
candidate's ranking keys are kept on it per event type and tenant weights, and the heap of a set
of matched candidates per process, so a tenant with 1,000 matching playbooks ranks its 2,000
templates once, not on every decision (``decisions.services.selection`` takes them in batches).
"""

from __future__ import annotations

import heapq
import threading
from dataclasses import dataclass
from datetime import datetime

from decisions.engine.context import DecisionContext
from decisions.engine.matching import PlaybookCandidate
from decisions.engine.prioritise import action_priority, priority_base, rank_key, template_weight


@dataclass(frozen=True, slots=True)
class Ranked:
    """One action template of a matched playbook with its FR-7 priority."""

    candidate: PlaybookCandidate
    index: int
    priority: float


class RankedTemplates:
    """The action templates of the matched playbooks, handed out best first (a heap: a decision
    that stops after its first batch never sorts the rest). Priorities are worked out only for
    the templates handed out. ``heap``: ``(rank key, candidate, index, weight)`` entries in heap
    order, this decision's own (``take`` pops from it)."""

    def __init__(self, heap: list[tuple[tuple, PlaybookCandidate, int, float]], base: float) -> None:
        self._heap = heap
        self._base = base

    def __len__(self) -> int:
        return len(self._heap)

    def take(self, count: int) -> list[Ranked]:
        """The next ``count`` templates at most, in rank order."""
        heap, base = self._heap, self._base
        taken = [heapq.heappop(heap) for _ in range(min(count, len(heap)))]
        return [Ranked(c, index, action_priority(weight, base)) for _, c, index, weight in taken]


def rank_templates(
    matched: list[PlaybookCandidate],
    *,
    context: DecisionContext,
    priorities: dict[str, float],
    signal_ts: datetime,
    now: datetime,
) -> RankedTemplates:
    """Every action template of ``matched``, in delivery order: FR-7 priority, ties by playbook
    name, action type and index; nothing rendered. Each candidate's ranking keys are worked out
    once per process for an event type and tenant weights (candidates are cached with their
    version), and so is the heap of a set of matched candidates: the next decision matching the
    same ones copies it (a tenant with 1,000 matching playbooks ranks 2,000 templates once, not
    on every decision, NFR-1)."""
    base = priority_base(context=context, signal_ts=signal_ts, now=now)
    weights = (context.signal.event_type, tuple(sorted(priorities.items())) if priorities else ())
    key = (weights, tuple(map(id, matched)))
    kept = _heaps.get(key)
    if kept is None:
        heap = [entry for candidate in matched for entry in _template_keys(candidate, weights, priorities)]
        heapq.heapify(heap)
        kept = (tuple(matched), heap)  # the candidates are kept, so the ids in the key stay theirs
        # an experiment's variants are new candidates on every decision: not worth keeping
        if not any(candidate.experiment_id for candidate in matched):
            with _heaps_lock:
                _heaps[key] = kept
                if len(_heaps) > _HEAPS_KEPT:
                    del _heaps[next(iter(_heaps))]  # the oldest
    return RankedTemplates(list(kept[1]), base)  # a copy: the kept heap is never popped


# Heaps of matched candidate sets kept per process (oldest dropped first): ~25 kB for a set of
# 1,000 candidates; candidates of an older configuration generation age out with them.
_HEAPS_KEPT = 64
_heaps: dict[tuple, tuple[tuple[PlaybookCandidate, ...], list]] = {}
_heaps_lock = threading.Lock()


# Distinct (event type, tenant weights) kept per candidate; more, and its keys are worked out again.
_KEYS_KEPT = 8


def _template_keys(
    candidate: PlaybookCandidate, weights: tuple, priorities: dict[str, float]
) -> list[tuple[tuple, PlaybookCandidate, int, float]]:
    """``[(rank key, candidate, index, weight)]`` of the candidate's templates, kept on the
    candidate (a frozen dataclass: ``__dict__`` as ``cached_property`` uses it)."""
    kept = candidate.__dict__.setdefault("_template_keys", {})
    keys = kept.get(weights)
    if keys is None:
        name, keys = candidate.playbook_name, []
        for index, template in enumerate(candidate.actions):
            kind = template["type"]
            weight = template_weight(
                template_priority=float(template.get("priority", 0.5)),
                playbook_name=name,
                action_type=kind,
                event_type=weights[0],
                priorities=priorities,
            )
            # the version id completes the key, so the heap never compares two candidates
            key = (*rank_key(weight, name, kind, index), candidate.version_id)
            keys.append((key, candidate, index, weight))
        if len(kept) >= _KEYS_KEPT:
            kept.clear()
        kept[weights] = keys
    return keys
