"""UT-MMM-01: playbook matching over contexts and signals (FR-3)."""

from __future__ import annotations

import logging

import pytest

from decisions.engine.matching import event_type_patterns, match_playbooks
from tests.engine.helpers import MIRROR, candidate, context


def _names(result):
    return [c.playbook_name for c in result.matched]


def test_ut_mmm_01_playbook_matching_logic():
    ctx = context(request_context={"repo_id": "org/app", "branch": "main"})
    candidates = [
        candidate([MIRROR], name="any"),
        candidate([MIRROR], name="main-only", conditions=['context.branch == "main"'], version_id="v2"),
        candidate(
            [MIRROR],
            name="release-only",
            conditions=['context.branch.startsWith("release/")'],
            version_id="v3",
        ),
        candidate([MIRROR], name="sre-only", roles=[["sre"]], version_id="v4"),
        candidate([MIRROR], name="dev-or-sre", roles=[["sre", "developer"]], version_id="v5"),
        candidate(
            [MIRROR],
            name="severity-and-branch",
            version_id="v6",
            conditions=['signal.severity in ["high", "critical"]', 'context.branch == "main"'],
        ),
    ]
    result = match_playbooks(candidates, actor_roles=frozenset({"developer"}), context=ctx.as_dict())
    assert _names(result) == ["any", "main-only", "dev-or-sre", "severity-and-branch"]
    assert result.errors == ()


def test_recent_signal_conditions():
    recent = [
        {"signal_id": f"s{i}", "event_type": "review.changes_requested", "severity": "low"} for i in range(2)
    ]
    rule = 'size(recent_signals.filter(s, s.event_type.startsWith("review."))) >= 2'
    churn = candidate([MIRROR], name="churn", conditions=[rule], version_id="churn-1")
    assert _names(
        match_playbooks([churn], actor_roles=frozenset(), context=context(recent_signals=recent).as_dict())
    )
    assert not _names(match_playbooks([churn], actor_roles=frozenset(), context=context().as_dict()))


def test_failing_condition_drops_only_its_playbook_with_a_logged_reason(caplog):
    good = candidate([MIRROR], name="good", version_id="g1")
    broken = candidate([MIRROR], name="broken", conditions=["context.nonexistent == 1"], version_id="b1")
    not_bool = candidate([MIRROR], name="not-bool", conditions=["signal.severity"], version_id="n1")
    with caplog.at_level(logging.WARNING):
        result = match_playbooks(
            [broken, good, not_bool], actor_roles=frozenset(), context=context().as_dict()
        )
    assert _names(result) == ["good"]
    assert [e["reason"] for e in result.errors] == [
        "condition 1 failed: KeyError",
        "condition 1 is not a boolean",
    ]
    assert "playbook dropped" in caplog.text


def test_condition_that_does_not_compile_drops_its_playbook():
    broken = candidate([MIRROR], name="broken", conditions=["signal.severity =="], version_id="x1")
    result = match_playbooks([broken], actor_roles=frozenset(), context=context().as_dict())
    assert result.matched == ()
    assert result.errors[0]["reason"].startswith("condition does not compile")


@pytest.mark.parametrize(
    ("event_type", "patterns"),
    [
        ("ci.check_run.failed", ["ci.check_run.failed", "ci.check_run.*", "ci.*", "*"]),
        ("incident.firing", ["incident.firing", "incident.*", "*"]),
        ("push", ["push", "*"]),
    ],
)
def test_event_type_patterns(event_type, patterns):
    assert event_type_patterns(event_type) == patterns


def test_the_cel_activation_holds_only_the_roots_the_conditions_read(monkeypatch):
    import cel

    built = []

    def spy(*, variables):
        built.append(sorted(variables))
        return cel.Context(variables=variables)

    monkeypatch.setattr("decisions.engine.matching.cel", type("Cel", (), {"Context": staticmethod(spy)}))
    recent = [{"signal_id": "s1", "event_type": "review.changes_requested", "severity": "low"}]
    ctx = context(request_context={"branch": "main"}, recent_signals=recent).as_dict()
    branch = candidate([MIRROR], name="branch", conditions=['context.branch == "main"'], version_id="r1")
    churn = candidate(
        [MIRROR], name="churn", conditions=["recent_signals.exists(s, s.severity == 'low')"], version_id="r2"
    )
    plain = candidate([MIRROR], name="plain", version_id="r3")
    assert _names(match_playbooks([branch, churn, plain], actor_roles=frozenset(), context=ctx)) == [
        "branch",
        "churn",
        "plain",
    ]
    assert built == [["context", "recent_signals"]]  # the bound variable "s" is no root
    built.clear()
    assert _names(match_playbooks([plain], actor_roles=frozenset(), context=ctx)) == ["plain"]
    assert built == [[]]


def test_fired_entries_are_shared_and_a_count_goes_to_a_copy():
    from decisions.services.persist import _fired

    first, second = candidate([MIRROR], name="first"), candidate([MIRROR], name="second", version_id="v-2")
    counted = {"count": 3, "window_minutes": 30, "seen": 3}
    fired = _fired((first, second), {second.playbook_id: counted})
    assert fired[0] is first.fired  # no new dict per decision
    assert fired[1] == {**second.fired, "trigger_count": counted}
    assert "trigger_count" not in second.fired  # the shared entry is never changed
    assert _fired((first, second), {})[1] is second.fired
