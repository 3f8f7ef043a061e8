"""UT-MMM-02: action composition respects type semantics (FR-4, FR-5, FR-6) and routing (FR-8)."""

from __future__ import annotations

import pytest

from decisions.engine.compose import compose_actions
from decisions.engine.routing import surface_payloads
from decisions.engine.templates import TemplateProblem, prescriptive_phrases, render
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER, candidate, context

NO_TAGS: frozenset[str] = frozenset()


def test_ut_mmm_02_action_composition():
    recent = [
        {"signal_id": "old-1", "event_type": "ci.check_run.failed", "severity": "high"},
        {"signal_id": "other", "event_type": "push", "severity": "info"},
    ]
    ctx = context(recent_signals=recent)
    actions, suppressed = compose_actions(
        candidate([MIRROR, MENTOR, MULTIPLIER]), context=ctx, dual_channel_tags=NO_TAGS
    )
    assert suppressed == []
    mirror, mentor, multiplier = actions
    # Mirror: rendered, neutral, no rationale, no consent
    assert mirror.payload["title"] == "CI failed on main"
    assert "rationale" not in mirror.payload
    assert prescriptive_phrases(mirror.payload["title"] + mirror.payload["body"]) == []
    assert mirror.requires_consent is False
    # Mentor: rationale with evidence (this signal, then same-type recent ones)
    assert mentor.payload["rationale"] == {
        "why_relevant": "main is red",
        "baseline_comparison": "usually green",
        "evidence_links": ["sig-1", "old-1"],
    }
    assert mentor.requires_consent is False
    # Multiplier: always consent, execution metadata for CI
    assert multiplier.requires_consent is True
    assert multiplier.payload["requires_consent"] is True
    assert multiplier.payload["execution"] == {
        "executor": "ci",
        "operation": "rerun_failed_jobs",
        "parameters": {},
    }
    assert multiplier.requires_dual_channel is False


def test_dual_channel_from_playbook_or_policy_tags():
    flagged = {**MULTIPLIER, "requires_dual_channel": True}
    tagged = {**MULTIPLIER, "tags": ["production_change"]}
    actions, _ = compose_actions(
        candidate([flagged, tagged, MULTIPLIER]),
        context=context(),
        dual_channel_tags=frozenset({"production_change"}),
    )
    assert [a.requires_dual_channel for a in actions] == [True, True, False]
    assert [a.payload["dual_channel_required"] for a in actions] == [True, True, False]


def test_rendered_mirror_with_prescriptive_text_is_dropped():
    # The template is neutral, but a value it prints makes it prescriptive.
    mirror = {**MIRROR, "title": "Branch {{ context.branch }}"}
    ctx = context(request_context={"branch": "you-must-fix-this"})
    actions, suppressed = compose_actions(candidate([mirror]), context=ctx, dual_channel_tags=NO_TAGS)
    assert actions == []
    assert suppressed[0]["reason"] == "mirror.prescriptive_text"


def test_template_failure_drops_the_action_not_the_decision():
    bad = {**MIRROR, "title": "{{ context.branch.nope }}"}
    actions, suppressed = compose_actions(
        candidate([bad, MENTOR]), context=context(), dual_channel_tags=NO_TAGS
    )
    assert [a.type for a in actions] == ["mentor"]
    assert suppressed == [
        {
            "playbook_id": "id-pb",
            "playbook_version": 1,
            "action_index": 0,
            "type": "mirror",
            "reason": "template.render_failed",
        }
    ]


@pytest.mark.parametrize(
    "source",
    [
        "{{ signal.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ recent_signals.__len__() }}",
        "{% for k in signal.items() %}{{ k.__class__.__init__ }}{% endfor %}",
    ],
)
def test_templates_cannot_reach_internals(source):
    with pytest.raises(TemplateProblem):
        render(source, context().as_dict())


def test_prescriptive_phrases():
    assert prescriptive_phrases("You should add tests; you must not skip. Need to fix.") == [
        "must not",
        "need to",
        "should",
    ]
    assert prescriptive_phrases("3 incidents touched this module this month.") == []


def test_routing_keeps_core_content_on_every_surface():
    actions, _ = compose_actions(
        candidate([{**MENTOR, "surfaces": ["ide", "ci", "alert"]}]),
        context=context(),
        dual_channel_tags=NO_TAGS,
    )
    payloads = surface_payloads(actions[0], severity="high")
    title, body = actions[0].payload["title"], actions[0].payload["body"]
    assert payloads["ide"]["pill"] == title
    assert payloads["ide"]["card"]["title"] == title and payloads["ide"]["card"]["body"] == body
    assert "dismiss" in payloads["ide"]["card"]["controls"]
    assert title in payloads["ci"]["check_summary"]
    assert title in payloads["ci"]["pr_comment"] and body in payloads["ci"]["pr_comment"]
    assert "main is red" in payloads["ci"]["pr_comment"]
    assert payloads["alert"]["notification"] == {"title": title, "text": body, "severity": "high"}


def test_multiplier_surfaces_ask_for_consent():
    actions, _ = compose_actions(candidate([MULTIPLIER]), context=context(), dual_channel_tags=NO_TAGS)
    payloads = surface_payloads(actions[0], severity="high")
    assert payloads["ide"]["card"]["controls"][0] == "review_and_consent"
    assert "explicit consent" in payloads["ci"]["pr_comment"]


def test_long_titles_are_shortened_for_the_ide_pill():
    long_title = {**MIRROR, "title": "A" * 100}
    actions, _ = compose_actions(candidate([long_title]), context=context(), dual_channel_tags=NO_TAGS)
    pill = surface_payloads(actions[0], severity="low")["ide"]["pill"]
    assert len(pill) == 60 and pill.endswith("\u2026")


@pytest.mark.parametrize(
    "source",
    [
        "Look at the first failing step.",
        "  Two lines,\nthe second ends with a newline.\n",
        "A } alone, and % signs, 100%",
        "",
    ],
)
def test_plain_text_renders_as_jinja_renders_it(source):
    from decisions.engine.templates import _compiled

    assert render(source, context().as_dict()) == _compiled(source).render(context().as_dict()).strip()
