"""The non-coercion lint for action texts (FR-10, FR-4): no fear, urgency, blame or misleading
certainty in any action's words, and no prescriptive phrasing in a Mirror.

FR-10 asks nudges to be "non-coercive, easy to ignore" and to avoid "using fear or misleading
information". The check is a lexicon of phrases per category, matched on word boundaries and case
insensitively; it is deliberately about *phrasing*, not facts: a severity ("critical"), a count
("3 incidents") or "firing now" are neutral statements and pass. ``tests/engine/test_language.py``
holds the corpus of phrases that must be refused and neutral texts that must pass.

Plain functions, no Django: playbook validation (``playbooks.spec``) reports each finding with
its field path and category; the LLM enrichment checks generated text with the same lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from decisions.engine.templates import PRESCRIPTIVE

FEAR = "fear"
URGENCY = "urgency"
BLAME = "blame"
MISLEADING_CERTAINTY = "misleading_certainty"
PRESCRIPTIVE_CATEGORY = "prescriptive"  # Mirror only (FR-4)

NON_COERCION_RULE = "FR-10: action text must not frighten, hurry, blame or overstate"
MIRROR_RULE = "FR-4: Mirror text must be neutral"

# The categories every action text is checked for, in report order.
NON_COERCION_CATEGORIES = (FEAR, URGENCY, BLAME, MISLEADING_CERTAINTY)


def _lexicon(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


LEXICON: dict[str, re.Pattern[str]] = {
    FEAR: _lexicon(
        r"or else",
        r"(?:you|you'll|you will) (?:be|get) (?:fired|punished|reported|held responsible|in trouble)",
        r"(?:get|gets|getting) (?:you )?(?:fired|punished|in trouble)",
        r"lose your (?:job|access|position|bonus)",
        r"your (?:job|career|performance review) (?:is|will be|may be) (?:at risk|affected|on the line)",
        r"(?:reported|escalated) to your (?:manager|boss|lead)",
        r"you(?:'ll| will) regret",
        r"consequences for you",
        r"disaster(?:s|ous)?",
        r"catastroph(?:e|es|ic)",
        r"doom(?:ed)?",
        r"terrifying|scary|be afraid|be very afraid",
        r"before it'?s too late",
        r"everything will (?:break|fail|be lost)",
    ),
    URGENCY: _lexicon(
        r"act now",
        r"do it now",
        r"right now",
        r"right away",
        r"immediately",
        r"urgent(?:ly)?",
        r"asap",
        r"as soon as possible",
        r"hurry",
        r"(?:don't|do not) (?:wait|delay)",
        r"without delay",
        r"last chance",
        r"time is running out",
        r"now or never",
        r"only \d+ (?:minutes?|hours?|days?) left",
        r"no time to (?:lose|waste)",
    ),
    BLAME: _lexicon(
        r"your fault",
        r"(?:is|was) on you",
        r"because of you",
        r"you (?:broke|caused|ruined|messed up|screwed up)",
        r"you (?:failed to|forgot to|neglected to|ignored)",
        r"you (?:always|never|keep) (?:break|breaking|fail|failing|forget|forgetting|ignore|ignoring)",
        r"(?:again|once more),? you",
        r"as usual,? you",
        r"careless(?:ly|ness)?",
        r"sloppy",
        r"lazy",
        r"incompetent",
        r"(?:irresponsible|negligent)",
        r"blame(?:d|s)?",
    ),
    MISLEADING_CERTAINTY: _lexicon(
        r"guarantee(?:d|s)?",
        r"100 ?% (?:safe|sure|certain|reliable|effective|secure|guaranteed)",
        r"definitely",
        r"certainly",
        r"undoubtedly",
        r"without (?:a|any) doubt",
        r"no doubt",
        r"(?:risk[- ]free|zero risk|no risk at all|without any risk)",
        r"(?:cannot|can't|will never|never) fail",
        r"always works",
        r"(?:will|is sure to) (?:fix|solve) (?:everything|it all|all (?:of )?(?:your|the) problems)",
        r"proven to",
        r"absolutely (?:safe|sure|certain|right|no risk)",
        r"nothing can go wrong",
    ),
}


@dataclass(frozen=True, order=True)
class LanguageFinding:
    """One coercive (or, in a Mirror, prescriptive) phrase found in a text."""

    category: str
    phrase: str

    @property
    def message(self) -> str:
        """``"urgency: 'act now' (FR-10: ...)"``: the category first, then the phrase and the rule."""
        rule = MIRROR_RULE if self.category == PRESCRIPTIVE_CATEGORY else NON_COERCION_RULE
        return f"{self.category}: {self.phrase!r} ({rule})"


def coercive_phrases(text: str) -> list[LanguageFinding]:
    """Return the non-coercion findings in ``text``: fear, urgency, blame, misleading certainty.

    Sorted by category order then phrase, each phrase once (lower case); empty when neutral.
    """
    found = {
        LanguageFinding(category, match.group(0).lower())
        for category, pattern in LEXICON.items()
        for match in pattern.finditer(text)
    }
    order = {category: index for index, category in enumerate(NON_COERCION_CATEGORIES)}
    return sorted(found, key=lambda f: (order[f.category], f.phrase))


def language_findings(*texts: str, mirror: bool) -> list[LanguageFinding]:
    """Every finding in an action's texts (each found once): the non-coercion categories for any
    action type, and ``prescriptive`` too for a Mirror (FR-4: neutral statements only)."""
    found: set[LanguageFinding] = set()
    for text in texts:
        found.update(coercive_phrases(text))
        if mirror:
            found.update(
                LanguageFinding(PRESCRIPTIVE_CATEGORY, m.group(0).lower())
                for m in PRESCRIPTIVE.finditer(text)
            )
    order = {
        category: index for index, category in enumerate((*NON_COERCION_CATEGORIES, PRESCRIPTIVE_CATEGORY))
    }
    return sorted(found, key=lambda f: (order[f.category], f.phrase))
