"""FR-2, spec 10.1 (MMMContext): recent signals with their times, the CI results among them, the
tenant's incidents and the signal's time bucket, assembled by the pure engine."""

from __future__ import annotations

from datetime import UTC, datetime

import cel
import pytest

from decisions.engine.conditions import ConditionProblem, compile_condition
from decisions.engine.context import CONTEXT_ROOTS, iso_utc, references, sample_context, time_bucket
from tests.engine.helpers import NOW, context

RECENT = [
    {
        "signal_id": "c1",
        "event_type": "ci.check_run.failed",
        "severity": "high",
        "ts": datetime(2026, 3, 4, 11, 55, tzinfo=UTC),
    },
    {
        "signal_id": "p1",
        "event_type": "review.changes_requested",
        "severity": "low",
        "ts": "2026-03-04T11:30:00Z",
    },
    {
        "signal_id": "c2",
        "event_type": "ci.workflow_run.succeeded",
        "severity": "info",
        "ts": "2026-03-04 10:00:00",
    },
    {"signal_id": "c3", "event_type": "ci.status.cancelled", "severity": "low"},
]


def test_recent_signals_carry_their_time_in_utc_iso_8601():
    data = context(recent_signals=RECENT).as_dict()
    assert [s["ts"] for s in data["recent_signals"]] == [
        "2026-03-04T11:55:00+00:00",
        "2026-03-04T11:30:00+00:00",  # "Z" read as UTC
        "2026-03-04T10:00:00+00:00",  # a naive time is UTC
        "",  # the source gave none
    ]


def test_ci_results_are_the_ci_signals_among_the_recent_ones_with_their_outcome():
    data = context(recent_signals=RECENT).as_dict()
    assert data["recent_ci_results"] == [
        {
            "signal_id": "c1",
            "event_type": "ci.check_run.failed",
            "result": "failed",
            "ts": "2026-03-04T11:55:00+00:00",
        },
        {
            "signal_id": "c2",
            "event_type": "ci.workflow_run.succeeded",
            "result": "succeeded",
            "ts": "2026-03-04T10:00:00+00:00",
        },
        {"signal_id": "c3", "event_type": "ci.status.cancelled", "result": "cancelled", "ts": ""},
    ]


def test_time_bucket_is_the_signal_time_in_the_tenant_zone():
    # 2026-03-04 12:00 UTC is a Wednesday; in Tokyo it is 21:00, in Honolulu 02:00
    assert context().as_dict()["time_bucket"] == {
        "hour": 12,
        "weekday": "wed",
        "day": "2026-03-04",
        "timezone": "UTC",
    }
    assert context(timezone="Asia/Tokyo").as_dict()["time_bucket"]["hour"] == 21
    late = context(timezone="Pacific/Honolulu", signal_ts=datetime(2026, 3, 2, 5, 0, tzinfo=UTC))
    assert late.as_dict()["time_bucket"] == {
        "hour": 19,
        "weekday": "sun",
        "day": "2026-03-01",
        "timezone": "Pacific/Honolulu",
    }
    assert time_bucket(NOW, "Not/AZone") == {
        "hour": 12,
        "weekday": "wed",
        "day": "2026-03-04",
        "timezone": "UTC",
    }


def test_incidents_keep_their_named_fields_only_and_at_most_ten():
    incidents = [
        {"incident_id": f"i{n}", "status": "firing", "severity": "high", "ts": "2026-03-04T09:00:00+02:00"}
        for n in range(12)
    ]
    data = context(recent_incidents=incidents).as_dict()
    assert len(data["recent_incidents"]) == 10
    assert data["recent_incidents"][0] == {
        "incident_id": "i0",
        "status": "firing",
        "severity": "high",
        "repo_id": "",
        "environment": "",
        "ts": "2026-03-04T07:00:00+00:00",
    }
    assert context().as_dict()["recent_incidents"] == []


@pytest.mark.parametrize(
    "condition, holds",
    [
        (
            'recent_signals.exists(s, s.event_type.startsWith("ci.")'
            ' && timestamp(signal.ts) - timestamp(s.ts) < duration("10m"))',
            True,
        ),
        (
            'recent_signals.exists(s, s.event_type == "review.changes_requested"'
            ' && timestamp(signal.ts) - timestamp(s.ts) < duration("10m"))',
            False,
        ),
        ('recent_ci_results.filter(r, r.result == "failed").size() >= 1', True),
        ('recent_incidents.exists(i, i.status == "firing" && i.repo_id == context.repo_id)', True),
        ("time_bucket.hour >= 9 && time_bucket.hour < 18 && !(time_bucket.weekday in ['sat', 'sun'])", True),
    ],
)
def test_cel_conditions_read_the_new_fields(condition, holds):
    ctx = context(
        recent_signals=RECENT,
        recent_incidents=[
            {
                "incident_id": "i1",
                "status": "firing",
                "severity": "high",
                "repo_id": "org/app",
                "ts": "2026-03-04T11:00:00Z",
            }
        ],
    )
    program = compile_condition(condition)  # the publish check: every root is known
    assert program.execute(cel.Context(variables=ctx.as_dict())) is holds


def test_every_root_is_in_the_sample_context_and_unknown_roots_are_refused():
    assert set(sample_context()) == CONTEXT_ROOTS
    assert set(context().as_dict()) == CONTEXT_ROOTS
    with pytest.raises(ConditionProblem, match="unknown variable"):
        compile_condition("incidents.size() > 0")


def test_references_finds_a_root_in_conditions_or_templates():
    assert references(["recent_incidents.size() > 0"], [], "recent_incidents")
    assert references([], [{"title": "{{ recent_incidents | length }} open"}], "recent_incidents")
    assert not references(["signal.severity == 'high'"], [{"title": "CI failed"}], "recent_incidents")


def test_iso_utc_refuses_what_is_not_a_time():
    assert iso_utc("yesterday") == "" and iso_utc(None) == "" and iso_utc(12) == ""


def test_the_reference_s_example_conditions_compile_and_run_on_the_sample_context():
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[2] / "docs" / "playbook-context.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    conditions = yaml.safe_load(block)["conditions"]
    assert len(conditions) == 4
    activation = cel.Context(variables=sample_context())
    results = [compile_condition(c).execute(activation) for c in conditions]
    assert all(isinstance(r, bool) for r in results)


def test_a_candidate_knows_the_on_demand_roots_it_uses():
    from tests.engine.helpers import MIRROR, candidate

    assert candidate([MIRROR], conditions=["recent_incidents.size() > 0"]).on_demand_roots == {
        "recent_incidents"
    }
    in_template = candidate([{**MIRROR, "body": "{{ recent_incidents | length }} open"}])
    assert in_template.on_demand_roots == {"recent_incidents"}
    assert candidate([MIRROR], conditions=["recent_ci_results.size() > 0"]).on_demand_roots == frozenset()


def test_evidence_links_name_the_firing_incidents_after_the_signal():
    from decisions.engine.compose import evidence_links

    incidents = [
        {"incident_id": f"i{n}", "status": "resolved" if n == 0 else "firing", "severity": "high"}
        for n in range(4)
    ]
    recent = [
        {"signal_id": f"s{n}", "event_type": "ci.check_run.failed", "severity": "high"} for n in range(5)
    ]
    assert evidence_links(context(recent_incidents=incidents, recent_signals=recent)) == [
        "sig-1",
        "i1",
        "i2",
        "s0",
        "s1",
        "s2",
    ]
    assert evidence_links(context(recent_signals=recent[:1])) == ["sig-1", "s0"]
