"""The simulation's shortcuts give what the engine's own functions give (issue 15: faithful)."""

from __future__ import annotations

from decisions.backtest.simulation import ReplayedContext
from tests.engine.helpers import context


def test_replayed_context_dict_is_the_engines_context_dict():
    recent = [
        {"signal_id": f"r{i}", "event_type": "review.changes_requested", "severity": "low"} for i in range(3)
    ]
    original = context(
        recent_signals=recent, request_context={"repo_id": "o/r", "branch": "main", "environment": "prod"}
    )
    replayed = ReplayedContext(**vars(original))
    assert replayed.as_dict() == original.as_dict()
    assert replayed.as_dict() is replayed.as_dict()  # built once
