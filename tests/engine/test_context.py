"""PR-MMM-01 / NFR-3: only the listed fields reach the decision context."""

from __future__ import annotations

import json

from tests.engine.helpers import context

ALLOWED = {
    "signal": {"signal_id", "source", "event_type", "severity", "ts"},
    "actor": {"id", "type", "roles"},
    "context": {"repo_id", "branch", "file_path", "environment"},
    "tenant": {"quiet_hours", "enabled_action_types", "enabled_surfaces"},
}


def test_nothing_else_reaches_the_context():
    # given a signal and request context carrying personal data, source code and secrets
    leaky = "dev@example.com"
    ctx = context(
        signal={
            "payload": {"sender": {"email": leaky, "name": "A Person"}, "diff": "def secret(): pass"},
            "author_email": leaky,
            "token": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        },
        request_context={
            "repo_id": "org/app",
            "branch": "main",
            "email": leaky,
            "source_code": "import os",
            "api_key": "sk-live-123",
        },
        recent_signals=[
            {
                "signal_id": f"s{i}",
                "event_type": "push",
                "severity": "info",
                "payload": {"x": leaky},
                "actor_email": leaky,
            }
            for i in range(15)
        ],
    )
    data = ctx.as_dict()
    # then only the allowed keys exist, at every level
    assert set(data) == {*ALLOWED, "recent_signals"}
    for key, fields in ALLOWED.items():
        assert set(data[key]) == fields
    assert len(data["recent_signals"]) == 10
    assert all(set(s) == {"signal_id", "event_type", "severity"} for s in data["recent_signals"])
    text = json.dumps(data)
    for forbidden in (leaky, "A Person", "def secret", "ghp_", "import os", "sk-live"):
        assert forbidden not in text
