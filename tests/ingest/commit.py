"""``after_commit(fn, *args)``: call ``fn`` and run the on-commit callbacks it registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

capture: Callable[..., Any] | None = None


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if capture is None:  # outside the ingest tests' fixture: plain call
        return fn(*args, **kwargs)
    with capture(execute=True):
        return fn(*args, **kwargs)
