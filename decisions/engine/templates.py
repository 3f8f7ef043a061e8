"""Action templates: rendering in a Jinja2 sandbox and the Mirror language lint (FR-4).

Templates see only the data-minimised context (plain dicts and lists); the sandbox refuses
attribute access to internals (``__class__``, ``mro``...) and any undefined name is an error
rather than an empty string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Prescriptive phrasing a Mirror must not use (FR-4: neutral statements only).
PRESCRIPTIVE = re.compile(
    r"\b(should(?:n't| not)?|must(?:n't| not)?|needs? to|ha(?:ve|s) to|required to|ought to|"
    r"make sure|don't forget|you'd better|it is (?:essential|necessary|mandatory) (?:to|that))\b",
    re.IGNORECASE,
)

MAX_RENDERED_CHARS = 4000

_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class TemplateProblem(ValueError):
    """A template that does not compile or does not render against the given context."""


@lru_cache(maxsize=4096)
def _compiled(source: str):
    return _ENVIRONMENT.from_string(source)


def compile_template(source: str) -> None:
    """Check that ``source`` parses. Raises TemplateProblem with the parser's message."""
    try:
        _compiled(source)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def render(source: str, context: dict[str, Any]) -> str:
    """Render ``source`` in the sandbox against ``context``; the result is capped in length.

    Raises:
        TemplateProblem: syntax error, undefined name, or a sandbox violation.
    """
    if "{" not in source:  # no expression, statement or comment: Jinja would give the text back
        return source.strip()[:MAX_RENDERED_CHARS]
    try:
        text = _compiled(source).render(context)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc
    return text.strip()[:MAX_RENDERED_CHARS]


def prescriptive_phrases(text: str) -> list[str]:
    """Return the prescriptive phrases found in ``text`` (empty when the text is neutral)."""
    return sorted({match.group(0).lower() for match in PRESCRIPTIVE.finditer(text)})
