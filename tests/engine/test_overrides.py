"""Override windows and exception approvals in the policy gate (FR-11), as pure functions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from decisions.engine.gates import policy_gate
from decisions.engine.overrides import parse_exceptions, parse_windows, policy_gate_with_overrides
from tests.engine.helpers import NOW, policy, proposed


def _window(window_id="w1", *, lift=(), restrict=(), start=-1, end=1):
    return {
        "window_id": window_id,
        "starts_at": (NOW + timedelta(hours=start)).isoformat(),
        "ends_at": (NOW + timedelta(hours=end)).isoformat(),
        "lift": list(lift),
        "restrict": list(restrict),
    }


def _exception(exception_id="EXC-1", *, restriction, hours=1, **scope):
    return {
        "exception_id": exception_id,
        "restriction": restriction,
        "expires_at": (NOW + timedelta(hours=hours)).isoformat(),
        **scope,
    }


def _gate(actions, *, restrictions=(), windows=(), exceptions=(), repo_id="org/app"):
    view = policy(
        restrictions=frozenset(restrictions),
        override_windows=parse_windows(windows),
        exception_approvals=parse_exceptions(exceptions),
    )
    return policy_gate_with_overrides(actions, view, repo_id=repo_id, now=NOW)


def test_without_windows_or_exceptions_it_is_the_policy_gate():
    actions = [proposed("mirror"), proposed("multiplier", operation="auto_patch")]
    view = policy(restrictions=frozenset({"auto_patch"}))
    kept, suppressed, applied = policy_gate_with_overrides(actions, view, repo_id="r", now=NOW)
    assert (kept, suppressed) == policy_gate(actions, view) and applied == []


def test_an_open_window_lifts_a_named_restriction_and_says_so():
    patch = proposed("multiplier", operation="auto_patch", name="fixer")
    kept, suppressed, applied = _gate(
        [patch], restrictions={"auto_patch"}, windows=[_window("maint", lift=["auto_patch"])]
    )
    assert kept == [patch] and suppressed == []
    assert applied == [
        {
            "reason": "policy.override_window_lifted",
            "id": "maint",
            "restriction": "auto_patch",
            "playbook_id": "id-fixer",
            "playbook_version": 1,
            "action_index": 0,
            "type": "multiplier",
        }
    ]


@pytest.mark.parametrize(("start", "end"), [(-3, -1), (1, 3)])
def test_a_closed_window_changes_nothing(start, end):
    patch = proposed("multiplier", operation="auto_patch")
    kept, suppressed, applied = _gate(
        [patch],
        restrictions={"auto_patch"},
        windows=[_window(lift=["auto_patch"], restrict=["mirror"], start=start, end=end)],
    )
    assert kept == [] and [s["reason"] for s in suppressed] == ["policy.restricted"] and applied == []


def test_a_window_adds_restrictions_with_its_own_reason_and_tightening_wins():
    mirror, mentor = proposed("mirror"), proposed("mentor", tags=("release",))
    kept, suppressed, applied = _gate(
        [mirror, mentor],
        restrictions={"release"},
        windows=[_window("freeze", restrict=["release"]), _window("maint", lift=["release"])],
    )
    assert kept == [mirror] and applied == []
    assert [s["reason"] for s in suppressed] == ["policy.override_window:freeze"]


def test_an_exception_lifts_one_restriction_within_its_scope_until_it_expires():
    patch = proposed("multiplier", operation="auto_patch", name="fixer")
    restricted = {"auto_patch"}
    # in scope (repository and playbook): kept, with the exception recorded
    kept, _, applied = _gate(
        [patch],
        restrictions=restricted,
        exceptions=[_exception(restriction="auto_patch", repo_id="org/app", playbook_id="id-fixer")],
    )
    assert kept == [patch]
    assert [(a["reason"], a["id"]) for a in applied] == [("policy.exception_approved", "EXC-1")]
    # another repository, another playbook, an expired exception, another restriction: no effect
    for exception in (
        _exception(restriction="auto_patch", repo_id="org/other"),
        _exception(restriction="auto_patch", playbook_id="id-other"),
        _exception(restriction="auto_patch", hours=-1),
        _exception(restriction="multiplier"),
    ):
        kept, suppressed, applied = _gate([patch], restrictions=restricted, exceptions=[exception])
        assert kept == [] and [s["reason"] for s in suppressed] == ["policy.restricted"] and applied == []


def test_every_restriction_must_be_lifted_and_other_gates_still_apply():
    patch = proposed("multiplier", operation="auto_patch", tags=("production_change",))
    both = {"auto_patch", "production_change"}
    one = [_exception(restriction="auto_patch")]
    assert _gate([patch], restrictions=both, exceptions=one)[0] == []
    kept, _, applied = _gate(
        [patch], restrictions=both, exceptions=[*one, _exception("EXC-2", restriction="production_change")]
    )
    assert kept == [patch] and {a["id"] for a in applied} == {"EXC-1", "EXC-2"}
    # an exception never re-enables a disabled action type
    view = policy(
        enabled_action_types=frozenset({"mirror"}),
        restrictions=frozenset({"auto_patch"}),
        exception_approvals=parse_exceptions(one),
    )
    kept, suppressed, applied = policy_gate_with_overrides([patch], view, repo_id="r", now=NOW)
    assert kept == [] and suppressed[0]["reason"] == "policy.action_type_disabled" and applied == []


def test_malformed_entries_do_not_parse():
    with pytest.raises((KeyError, ValueError)):
        parse_windows([{"window_id": "w", "starts_at": "yesterday", "ends_at": NOW.isoformat()}])
    with pytest.raises(ValueError):  # a time without a zone is ambiguous
        parse_exceptions([{"exception_id": "e", "restriction": "r", "expires_at": "2026-03-04T12:00:00"}])
