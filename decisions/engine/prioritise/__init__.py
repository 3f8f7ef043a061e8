"""Prioritisation (FR-7): rank by severity, recency and frequency, and tenant priority; cap.

``priority = template_priority * tenant_weight * (0.5 * severity + 0.3 * recency + 0.2 * frequency)``
with each factor in [0, 1]:
- severity: info 0.2, low 0.4, medium 0.6, high 0.8, critical 1.0;
- recency: ``exp(-age / 1 hour)`` of the signal's timestamp (1.0 for a fresh signal);
- frequency: recent signals of the same event type, out of the 10 kept in the context;
- tenant_weight: ``policy.priorities`` by playbook name, event type, or action type (first
  found, default 1.0).
It ranks situations, never people: no per-actor score is computed or stored (FM-MMM-02).
"""

from __future__ import annotations

import math
from datetime import datetime

from decisions.engine.context import RECENT_SIGNALS_LIMIT, DecisionContext
from mmm_project.vocabulary import Severity

TYPE_ORDER = {"mirror": 0, "mentor": 1, "multiplier": 2}


def _severity_factor(severity: str) -> float:
    return (Severity.rank(severity) + 1) / len(Severity.values)


def priority_base(*, context: DecisionContext, signal_ts: datetime, now: datetime) -> float:
    """The decision's common factor ``0.5 * severity + 0.3 * recency + 0.2 * frequency``."""
    age_hours = max((now - signal_ts).total_seconds(), 0.0) / 3600
    recency = math.exp(-age_hours)
    same = sum(1 for s in context.recent_signals if s.event_type == context.signal.event_type)
    frequency = min(same / RECENT_SIGNALS_LIMIT, 1.0)
    return 0.5 * _severity_factor(context.signal.severity) + 0.3 * recency + 0.2 * frequency


def template_weight(
    *,
    template_priority: float,
    playbook_name: str,
    action_type: str,
    event_type: str,
    priorities: dict[str, float],
) -> float:
    """``template_priority * tenant_weight``: what ranks a template. The decision's common factor
    (``priority_base``) scales every template alike, so it never changes the order."""
    weight = 1.0
    if priorities:
        weight = next(
            (float(priorities[k]) for k in (playbook_name, event_type, action_type) if k in priorities), 1.0
        )
    return template_priority * weight


def action_priority(weight: float, base: float) -> float:
    """``template_priority * tenant_weight * base`` (``weight * base``), rounded to 6 places: the
    priority an action records."""
    return round(weight * base, 6)


def rank_key(weight: float, playbook_name: str, action_type: str, index: int) -> tuple:
    """Highest ``template_weight`` first; ties by playbook name, then Mirror < Mentor < Multiplier,
    then index."""
    return (-round(weight, 9), playbook_name, TYPE_ORDER[action_type], index)
