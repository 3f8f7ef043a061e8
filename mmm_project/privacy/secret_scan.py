"""Credentials never stored (NFR-3, NFR-7): find them in text and replace them before a write.

The typed detectors are detect-secrets' own plugins and patterns (AWS access keys, GitHub and
GitLab tokens, Slack tokens, private key blocks, JSON Web Tokens). Generic ``password=...`` /
``secret: ...`` pairs are matched here, since detect-secrets' keyword plugin expects source-code
quoting. Each finding becomes ``[REDACTED:<kind>]``; only the kinds are counted
(``mmm_secrets_redacted_total{kind,where}``), never the values, and nothing is logged.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.slack import SlackDetector

from mmm_project import metrics

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_PAIR = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token)"
    r"(\s*[=:]\s*[\"']?)([^\s\"'&,;]{4,})"
)
# kind -> patterns whose whole match is the secret (from the detect-secrets plugins)
TYPED = (
    ("aws_access_key", tuple(AWSKeyDetector().denylist)),
    ("github_token", tuple(GitHubTokenDetector().denylist)),
    ("gitlab_token", tuple(GitLabTokenDetector().denylist)),
    ("slack_token", tuple(SlackDetector().denylist)),
    ("jwt", tuple(JwtTokenDetector().denylist)),
)
_PRIVATE_KEY_HEADERS = tuple(PrivateKeyDetector().denylist)


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """``text`` with every credential replaced by ``[REDACTED:<kind>]``, and the kinds found."""
    found: Counter[str] = Counter()
    if any(header.search(text) for header in _PRIVATE_KEY_HEADERS):
        text, n = _PRIVATE_KEY_BLOCK.subn("[REDACTED:private_key]", text)
        found["private_key"] += n
    for kind, patterns in TYPED:
        for pattern in patterns:
            if pattern.search(text):  # most text holds none: a search is cheaper than a substitution
                text, n = pattern.subn(f"[REDACTED:{kind}]", text)
                found[kind] += n
    if _PAIR.search(text):
        text, n = _PAIR.subn(lambda m: f"{m.group(1)}{m.group(2)}[REDACTED:password]", text)
        found["password"] += n
    return text, +found


def redact_secrets(value: Any, *, where: str) -> Any:
    """A copy of ``value`` (str, or dicts and lists of them) with credentials redacted in every
    string, keys included; counts each kind found under ``where`` (``signal``, ``outcome``...)."""
    found: Counter[str] = Counter()

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            clean, kinds = redact_text(item)
            found.update(kinds)
            return clean
        if isinstance(item, dict):
            return {walk(key): walk(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        return item

    result = walk(value)
    for kind, count in found.items():
        metrics.SECRETS_REDACTED.labels(kind, where).inc(count)
    return result
