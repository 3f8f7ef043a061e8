"""PR-MMM-01 / NFR-3: only the listed fields reach the decision context."""

from __future__ import annotations

import json

from tests.engine.helpers import context

ALLOWED = {
    "signal": {"signal_id", "source", "event_type", "severity", "ts"},
    "actor": {"id", "type", "roles"},
    "context": {"repo_id", "branch", "file_path", "environment"},
    "tenant": {"quiet_hours", "enabled_action_types", "enabled_surfaces"},
    "time_bucket": {"hour", "weekday", "day", "timezone"},
}
# The fields of each item of the context's lists: ids, kinds, severities, states, times.
ALLOWED_ITEMS = {
    "recent_signals": {"signal_id", "event_type", "severity", "ts"},
    "recent_ci_results": {"signal_id", "event_type", "result", "ts"},
    "recent_incidents": {"incident_id", "status", "severity", "repo_id", "environment", "ts"},
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
                "event_type": "ci.check_run.failed" if i % 2 else "push",
                "severity": "info",
                "ts": "2026-03-04T11:00:00+00:00",
                "payload": {"x": leaky},
                "actor_email": leaky,
            }
            for i in range(15)
        ],
        recent_incidents=[
            {
                "incident_id": f"inc-{i}",
                "status": "firing",
                "severity": "high",
                "repo_id": "org/app",
                "environment": "prod",
                "ts": "2026-03-04T10:00:00Z",
                "title": "Database down, paged A Person",
                "responders": [leaky],
                "description": "def secret(): pass",
            }
            for i in range(12)
        ],
    )
    data = ctx.as_dict()
    # then only the allowed keys exist, at every level
    assert set(data) == {*ALLOWED, *ALLOWED_ITEMS}
    for key, fields in ALLOWED.items():
        assert set(data[key]) == fields
    assert len(data["recent_signals"]) == 10 and len(data["recent_incidents"]) == 10
    assert len(data["recent_ci_results"]) == 5
    for key, fields in ALLOWED_ITEMS.items():
        assert all(set(item) == fields for item in data[key]), key
    text = json.dumps(data)
    for forbidden in (leaky, "A Person", "def secret", "ghp_", "import os", "sk-live", "Database down"):
        assert forbidden not in text
