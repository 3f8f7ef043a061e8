"""CEL conditions (FR-3): compiled once per playbook version and cached, evaluated per decision.

Uses ``common-expression-language`` (Rust core, about 10 us an evaluation). A condition that
fails at run time (missing key, type error, division by zero) makes its playbook not match,
with the reason logged; it never fails the decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import cel

from decisions.engine.context import CONTEXT_ROOTS

# Macros that bind a variable: ``list.filter(x, ...)``, ``all``, ``exists``, ``exists_one``, ``map``.
_BOUND_VARIABLE = re.compile(r"\.(?:all|exists|exists_one|filter|map)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")


class ConditionProblem(ValueError):
    """A condition that does not compile, or references names outside the context."""


def compile_condition(expression: str) -> cel.Program:
    """Compile one CEL expression and check its variables are context roots.

    Raises:
        ConditionProblem: syntax error or an unknown variable.
    """
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        raise ConditionProblem(str(exc).splitlines()[0]) from exc
    bound = set(_BOUND_VARIABLE.findall(expression))
    unknown = sorted(set(program.variables()) - CONTEXT_ROOTS - bound)
    if unknown:
        raise ConditionProblem(
            f"unknown variable(s) {', '.join(unknown)}; use {', '.join(sorted(CONTEXT_ROOTS))}"
        )
    return program


@lru_cache(maxsize=20_000)
def compiled_conditions(version_key: str, expressions: tuple[str, ...]) -> tuple[cel.Program, ...]:
    """Programs for an immutable playbook version, compiled on first use and then reused.

    ``version_key`` is the PlaybookVersion id; versions never change, so the cache needs no
    invalidation. Raises ConditionProblem as ``compile_condition``.
    """
    return tuple(compile_condition(expression) for expression in expressions)


def evaluate_all(
    programs: Sequence[cel.Program], context: dict[str, Any] | cel.Context
) -> tuple[bool, str | None]:
    """Return ``(True, None)`` when every condition holds, else ``(False, reason)``.

    ``context``: the decision's ``as_dict()``, or a ``cel.Context`` built from it once per
    decision (converting a dict costs about 200 us on every evaluation).

    A condition must evaluate to a boolean; anything else, or an evaluation error, is a
    non-match with a reason such as ``"condition 2: KeyError 'branch'"``.
    """
    for index, program in enumerate(programs, start=1):
        try:
            result = program.execute(context)
        except Exception as exc:  # noqa: BLE001 - the library raises several types; all mean "no match"
            return False, f"condition {index} failed: {type(exc).__name__}"
        if result is not True:
            if result is False:
                return False, None
            return False, f"condition {index} is not a boolean"
    return True, None
