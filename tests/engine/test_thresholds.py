"""Only after N in M (issue 15): trigger ``count``/``window_minutes`` validation, the count over the
repository's prior signals, and the plain-language sentences. Plain data, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from decisions.engine.matching import match_playbooks, trigger_verdict
from decisions.engine.thresholds import (
    HistoryQuery,
    Threshold,
    count_record,
    count_seen,
    count_sentence,
    history_of,
    history_queries,
    ordinal,
    threshold_of,
)
from playbooks.spec import validate_playbook
from tests.engine.helpers import MIRROR, NOW, candidate, context

THREE_IN_30 = Threshold("ci.check_run.failed", "*", "info", 3, 30)
KEY = THREE_IN_30.key


def _document(**trigger):
    return {"name": "p", "triggers": [{"event_type": "ci.check_run.failed", **trigger}], "actions": [MIRROR]}


def test_a_valid_count_and_window_are_kept_on_the_trigger():
    spec, problems = validate_playbook(_document(count=3, window_minutes=30))
    assert problems == []
    assert spec["triggers"][0]["count"] == 3 and spec["triggers"][0]["window_minutes"] == 30
    assert threshold_of(spec["triggers"][0]) == THREE_IN_30
    # and a trigger without them stays as it was
    spec, _ = validate_playbook(_document())
    assert set(spec["triggers"][0]) == {"event_type", "source", "min_severity", "actor_roles"}
    assert threshold_of(spec["triggers"][0]) is None


@pytest.mark.parametrize(
    ("trigger", "field", "message"),
    [
        ({"count": 0, "window_minutes": 30}, "triggers[0].count", "between 1 and 50"),
        ({"count": -2, "window_minutes": 30}, "triggers[0].count", "between 1 and 50"),
        ({"count": 51, "window_minutes": 30}, "triggers[0].count", "between 1 and 50"),
        ({"count": True, "window_minutes": 30}, "triggers[0].count", "integer"),
        ({"count": "3", "window_minutes": 30}, "triggers[0].count", "integer"),
        ({"count": 3, "window_minutes": 0}, "triggers[0].window_minutes", "between 1 and 1440"),
        ({"count": 3, "window_minutes": 1441}, "triggers[0].window_minutes", "between 1 and 1440"),
        ({"count": 3, "window_minutes": 2.5}, "triggers[0].window_minutes", "integer"),
        ({"window_minutes": 30}, "triggers[0].window_minutes", "only allowed with count"),
        ({"count": 3}, "triggers[0].window_minutes", "is required with count"),
    ],
)
def test_bad_counts_and_windows_refuse_the_playbook_naming_the_field(trigger, field, message):
    spec, problems = validate_playbook(_document(**trigger))
    assert spec is None  # structural: not even a draft is saved
    assert [p.field for p in problems] == [field]
    assert message in problems[0].message


def test_history_queries_merge_triggers_counting_the_same_signals():
    wide = Threshold("ci.check_run.failed", "*", "info", 2, 120)
    other = Threshold("deploy.*", "argo", "high", 5, 10)
    queries = history_queries([THREE_IN_30, None, wide, other])
    assert queries == (
        HistoryQuery(KEY, window_minutes=120, limit=3),
        HistoryQuery(("deploy.*", "argo", "high"), window_minutes=10, limit=5),
    )
    assert history_queries([None, None]) == ()


def test_the_count_includes_this_signal_and_only_the_window():
    history = {KEY: [NOW - timedelta(minutes=m) for m in (5, 30, 31)]}
    # 5 and 30 minutes ago are in the window (its start included), 31 is not; this one counts too
    assert count_seen(THREE_IN_30, history, signal_ts=NOW) == 3
    assert count_seen(THREE_IN_30, {KEY: [NOW - timedelta(minutes=31)]}, signal_ts=NOW) == 1
    assert count_seen(THREE_IN_30, None, signal_ts=NOW) == 1
    # a signal after this one's time is not counted
    assert count_seen(THREE_IN_30, {KEY: [NOW + timedelta(minutes=1)]}, signal_ts=NOW) == 1
    # more than needed is capped at needed + 1 ("a later one than the Nth")
    many = {KEY: [NOW - timedelta(minutes=m) for m in range(1, 10)]}
    assert count_seen(THREE_IN_30, many, signal_ts=NOW) == 4


def test_history_of_reads_what_the_lookup_reads():
    def row(minutes, signal_id, event_type="ci.check_run.failed", source="github", severity="high"):
        return (NOW - timedelta(minutes=minutes), signal_id, event_type, source, severity)

    signals = sorted(
        [
            row(40, "old"),
            row(20, "a"),
            row(15, "wrong-type", event_type="ci.check_run.succeeded"),
            row(10, "low", severity="low"),
            row(8, "other-source", source="gitlab"),
            row(0, "this"),
            row(-5, "later"),
        ]
    )
    queries = [
        HistoryQuery(KEY, window_minutes=30, limit=5),
        HistoryQuery(("ci.*", "github", "high"), window_minutes=30, limit=2),
        HistoryQuery(("*", "*", "info"), window_minutes=60, limit=10),
    ]
    history = history_of(signals, queries, signal_id="this", signal_ts=NOW)
    minutes = {key: [int((NOW - ts).total_seconds() // 60) for ts in found] for key, found in history.items()}
    assert minutes == {
        KEY: [8, 10, 20],  # any source, any severity from info, only the exact type, not "this"
        ("ci.*", "github", "high"): [15, 20],  # prefix pattern, github, high: the latest two
        ("*", "*", "info"): [8, 10, 15, 20, 40],
    }


def test_a_playbook_with_a_count_matches_from_the_nth_signal():
    counted = candidate([MIRROR], name="counted")
    counted = type(counted)(**{**counted.__dict__, "trigger_thresholds": (THREE_IN_30,)})
    plain = candidate([MIRROR], name="plain")
    ctx = context().as_dict()
    two = {KEY: [NOW - timedelta(minutes=1)]}
    three = {KEY: [NOW - timedelta(minutes=1), NOW - timedelta(minutes=2)]}
    result = match_playbooks(
        [counted, plain], actor_roles=frozenset(), context=ctx, history=two, signal_ts=NOW
    )
    assert [c.playbook_name for c in result.matched] == ["plain"]
    assert result.trigger_counts == {}
    result = match_playbooks(
        [counted, plain], actor_roles=frozenset(), context=ctx, history=three, signal_ts=NOW
    )
    assert [c.playbook_name for c in result.matched] == ["counted", "plain"]
    assert result.trigger_counts == {"id-counted": count_record(THREE_IN_30, 3)}
    assert result.trigger_counts["id-counted"]["beyond"] is False


def test_a_trigger_without_count_wins_and_roles_still_apply():
    both = candidate([MIRROR], roles=((), ("lead",)), name="both")
    both = type(both)(**{**both.__dict__, "trigger_thresholds": (THREE_IN_30, None)})
    # the lead passes through the trigger without a count, with nothing to explain
    assert trigger_verdict(both, frozenset({"lead"}), signal_ts=NOW).count is None
    assert trigger_verdict(both, frozenset({"lead"}), signal_ts=NOW).fires
    # a developer only through the count trigger, not reached yet: the count says how far
    verdict = trigger_verdict(both, frozenset({"developer"}), signal_ts=NOW)
    assert (verdict.roles_fit, verdict.fires, verdict.count["count"], verdict.count["needed"]) == (
        True,
        False,
        1,
        3,
    )


def test_sentences_say_which_signal_this_is():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "101st",
    ]
    third = count_sentence(count_record(THREE_IN_30, 3))
    assert third == (
        "This is the 3rd 'ci.check_run.failed' signal on this repository within 30 minutes: "
        "the playbook waits for 3."
    )
    assert "later 'ci.check_run.failed' signal than the 3rd" in count_sentence(count_record(THREE_IN_30, 4))
    assert count_sentence(count_record(Threshold("ci.*", "github", "info", 3, 30), 2)) == (
        "Only 2 of the 3 'ci.*' signals from github the playbook waits for reached this repository "
        "within 30 minutes (this one included)."
    )
