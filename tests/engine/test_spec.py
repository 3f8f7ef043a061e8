"""Playbook validation lists every problem with its field path (FR-3, FR-4)."""

from __future__ import annotations

from playbooks.spec import validate_playbook
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER


def test_valid_playbook_normalises_defaults():
    spec, problems = validate_playbook(
        {"name": "ok", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR, MULTIPLIER]}
    )
    assert problems == []
    assert spec["triggers"] == [
        {"event_type": "ci.*", "source": "*", "min_severity": "info", "actor_roles": []}
    ]
    assert spec["actions"][0]["priority"] == 0.5


def test_every_problem_is_reported_with_its_field():
    _, problems = validate_playbook(
        {
            "name": "",
            "colour": "red",
            "triggers": [{"event_type": "ci.*.failed", "min_severity": "urgent", "roles": []}],
            "conditions": ["signal.severity ==", "unknown_root.x == 1", 'signal.severity == "high"'],
            "actions": [
                {**MIRROR, "body": "You should rerun it."},
                {**MENTOR, "rationale": None},
                {**MULTIPLIER, "execution": {"executor": "robot"}},
                {"type": "nudge", "surfaces": ["email"], "title": "{{ nope }}", "body": "x"},
            ],
            "limits": {"cooldown_minutes": -1},
        }
    )
    fields = {p.field for p in problems}
    assert fields == {
        "name",
        "colour",
        "triggers[0].event_type",
        "triggers[0].min_severity",
        "triggers[0].roles",
        "conditions[0]",
        "conditions[1]",
        "actions[0].body",
        "actions[1].rationale",
        "actions[2].execution.executor",
        "actions[2].execution.operation",
        "actions[3].type",
        "actions[3].surfaces",
        "actions[3].title",
        "limits.cooldown_minutes",
    }
    messages = {p.field: p.message for p in problems}
    assert "should" in messages["actions[0].body"]
    assert "unknown_root" in messages["conditions[1]"]


def test_mirror_cannot_carry_execution_or_rationale():
    _, problems = validate_playbook(
        {
            "name": "m",
            "triggers": [{"event_type": "x"}],
            "actions": [{**MIRROR, "execution": {}, "rationale": {}}],
        }
    )
    assert {p.field for p in problems} == {"actions[0].execution", "actions[0].rationale"}


def test_not_an_object():
    assert validate_playbook(["a"])[1][0].message == "a playbook must be an object"
