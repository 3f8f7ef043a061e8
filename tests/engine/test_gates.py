"""UT-MMM-04: policy and preference filters remove what is not allowed (FR-11, FR-14, FR-10)."""

from __future__ import annotations

from datetime import timedelta

from decisions.engine.gates import policy_gate, preference_gate
from tests.engine.helpers import NOW, policy, prefs, proposed


def test_ut_mmm_04_policy_and_safety_filters():
    actions = [
        proposed("mirror", surfaces=("ide", "alert"), name="a"),
        proposed("multiplier", name="b"),
        proposed("mentor", surfaces=("alert",), name="c"),
        proposed("mentor", tags=("auto_patch",), name="d"),
        proposed("mentor", operation="", name="e"),
    ]
    view = policy(
        enabled_action_types=frozenset({"mirror", "mentor"}),
        enabled_surfaces=frozenset({"ide", "ci"}),
        restrictions=frozenset({"auto_patch"}),
    )
    kept, suppressed = policy_gate(actions, view)
    assert [(a.playbook_name, a.surfaces) for a in kept] == [("a", ("ide",)), ("e", ("ide", "ci"))]
    assert {(s["type"], s["reason"]) for s in suppressed} == {
        ("multiplier", "policy.action_type_disabled"),
        ("mentor", "policy.surfaces_disabled"),
        ("mentor", "policy.restricted"),
    }


def test_restriction_by_action_type_or_operation():
    actions = [proposed("multiplier", operation="draft_rollback_pr", name="x"), proposed("mirror", name="y")]
    kept, _ = policy_gate(actions, policy(restrictions=frozenset({"draft_rollback_pr"})))
    assert [a.playbook_name for a in kept] == ["y"]
    kept, _ = policy_gate(actions, policy(restrictions=frozenset({"multiplier"})))
    assert [a.playbook_name for a in kept] == ["y"]


def test_snoozed_actor_gets_nothing_until_snooze_ends():
    actions = [proposed("mirror"), proposed("mentor")]
    snoozed = prefs(snooze_until=NOW + timedelta(hours=1))
    kept, suppressed = preference_gate(actions, snoozed, now=NOW)
    assert kept == [] and {s["reason"] for s in suppressed} == {"actor.snoozed"}
    kept, _ = preference_gate(actions, snoozed, now=NOW + timedelta(hours=2))
    assert len(kept) == 2


def test_opt_out_and_preferred_surfaces():
    actions = [
        proposed("mirror", surfaces=("ide", "ci")),
        proposed("multiplier"),
        proposed("mentor", surfaces=("alert",)),
    ]
    view = prefs(opt_out_categories=frozenset({"multiplier"}), preferred_surfaces=frozenset({"ci"}))
    kept, suppressed = preference_gate(actions, view, now=NOW)
    assert [(a.type, a.surfaces) for a in kept] == [("mirror", ("ci",))]
    assert [s["reason"] for s in suppressed] == ["actor.opted_out", "actor.surfaces_not_preferred"]


def test_a_muted_playbook_is_suppressed_until_the_mute_ends():
    actions = [proposed("mirror", name="noisy"), proposed("mirror", name="quiet")]
    view = prefs(muted_playbooks={"id-noisy": NOW + timedelta(days=1)})
    kept, suppressed = preference_gate(actions, view, now=NOW)
    assert [a.playbook_name for a in kept] == ["quiet"]
    assert [(s["playbook_id"], s["reason"]) for s in suppressed] == [("id-noisy", "actor.muted_playbook")]
    kept, _ = preference_gate(actions, view, now=NOW + timedelta(days=2))
    assert len(kept) == 2
