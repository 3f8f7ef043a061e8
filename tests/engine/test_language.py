"""The non-coercion lint (FR-10, FR-4): a corpus of phrases that must be refused, each with its
category, and neutral texts that must pass; playbook validation reports each finding."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from decisions.engine.language import coercive_phrases, language_findings
from playbooks.spec import validate_playbook
from tests.engine.helpers import MENTOR, MIRROR, MULTIPLIER

REFUSED = {
    "fear": [
        "Fix the pipeline or else the release slips.",
        "You will be reported if this stays red.",
        "Ignoring this could get you fired.",
        "You could lose your access over this.",
        "This will be escalated to your manager.",
        "You'll regret skipping this check.",
        "A disaster is waiting in this module.",
        "This is a catastrophic failure.",
        "Rotate the key before it's too late.",
        "Everything will break unless you act.",
        "There will be consequences for you.",
    ],
    "urgency": [
        "Act now to fix the build.",
        "Please rerun the job immediately.",
        "Rotate the credential right now.",
        "Review this urgently.",
        "Urgent: the pipeline is red.",
        "Fix it ASAP.",
        "Merge the fix as soon as possible.",
        "Hurry, the release is close.",
        "Don't wait to rotate the key.",
        "Last chance to fix before the freeze.",
        "Only 5 minutes left to approve.",
        "Time is running out for this release.",
    ],
    "blame": [
        "You broke the build on main.",
        "This is your fault.",
        "The outage happened because of you.",
        "You forgot to update the tests.",
        "You ignored the last three warnings.",
        "You keep breaking the default branch.",
        "Again, you pushed without running the tests.",
        "This was a careless change.",
        "Sloppy review let this through.",
        "The team blamed this commit.",
    ],
    "misleading_certainty": [
        "This fix is guaranteed to work.",
        "The patch is 100% safe.",
        "This will definitely pass next time.",
        "Rerunning certainly fixes flaky tests.",
        "The rollback is risk-free.",
        "This change cannot fail.",
        "The script always works.",
        "This will fix everything.",
        "Proven to stop every incident.",
        "Without a doubt the cause is this file.",
        "Nothing can go wrong with this rollback.",
    ],
}

NEUTRAL = [
    "CI is failing on main in org/app",
    "A critical incident is firing in prod.",
    "An alert of high severity is firing now.",
    "3 incidents touched this module this month.",
    "100% of the last 10 runs failed on this step.",
    "The latest deployment of org/app did not complete.",
    "A test changed outcome without a code change.",
    "Consider quarantining or fixing the flaky test.",
    "Rotate the exposed credential.",
    "A blameless review of the incident is scheduled.",
    "The build broke after the dependency update.",
    "Look at the first failing step before pushing again.",
    "A draft pull request reverting the last deployed change can be prepared for review.",
    "Deployments are expected to complete without a rollback.",
    "The job failed twice in the last hour.",
    "Secret scanning reported a credential in the repository's history.",
    "Most changes here merge after one or two review rounds.",
    "This step often fails on Mondays; the retry usually passes.",
]


@pytest.mark.parametrize(
    ("category", "text"), [(category, text) for category, texts in REFUSED.items() for text in texts]
)
def test_coercive_phrases_are_refused_with_their_category(category, text):
    assert category in {finding.category for finding in coercive_phrases(text)}


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_texts_pass(text):
    assert coercive_phrases(text) == []


def test_mirror_texts_are_also_checked_for_prescriptive_phrasing():
    findings = language_findings("You should act now.", mirror=True)
    assert [(f.category, f.phrase) for f in findings] == [("urgency", "act now"), ("prescriptive", "should")]
    assert [f.category for f in language_findings("You should act now.", mirror=False)] == ["urgency"]
    assert findings[0].message.startswith("urgency: 'act now' (FR-10")


def test_validation_reports_each_finding_of_every_action_type_with_path_and_category():
    spec, problems = validate_playbook(
        {
            "name": "pushy",
            "triggers": [{"event_type": "ci.*"}],
            "actions": [
                {**MIRROR, "title": "You broke {{ context.branch }}"},
                {**MENTOR, "body": "Act now: this fix is guaranteed."},
                {
                    **MULTIPLIER,
                    "rationale": {"why_relevant": "A disaster is coming.", "baseline_comparison": "Fine."},
                    "llm": {
                        "prompt": "Write calmly; never say urgent or guaranteed."
                    },  # a prompt is not shown
                },
            ],
        }
    )
    assert spec is not None  # a draft may be saved; publishing refuses it
    assert all(p.publish_only for p in problems)
    assert {(p.field, p.category) for p in problems} == {
        ("actions[0].title", "blame"),
        ("actions[1].body", "urgency"),
        ("actions[1].body", "misleading_certainty"),
        ("actions[2].rationale.why_relevant", "fear"),
    }


def test_the_starter_playbooks_pass():
    starter = Path(__file__).resolve().parents[2] / "playbooks" / "starter"
    for path in sorted(starter.glob("*.yaml")):
        _, problems = validate_playbook(yaml.safe_load(path.read_text()))
        assert problems == [], path.name
