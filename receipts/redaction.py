"""Redaction of admin before/after states for receipts (FR-13, NFR-3): secret-looking keys' values
are replaced, so no credential reaches a receipt."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
SECRET_KEY = re.compile(  # LLM token budgets and counts (the lookahead) are quantities, not credentials
    r"^(?!(?:daily_token_budget|(?:input|output|total)_tokens)$).*"
    r"(?:secret|token|password|passwd|api[_-]?key|private|credential|signing[_-]?key)",
    re.I,
)


def redact(value: Any) -> Any:
    """Copy ``value`` with every secret-looking key's value replaced by ``"[REDACTED]"``."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
