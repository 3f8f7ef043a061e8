"""What of a signal's payload is stored (NFR-3 data minimisation, PR-MMM-01).

Producers send whatever they have (a CloudEvent's ``data``, a webhook's whole body); the engine
decides from the envelope's metadata and context, never from the payload. ``payload_minimise``
keeps only the allow-listed top-level fields (``PAYLOAD_FIELDS``: the fields every source may
keep, plus the source's own), each a scalar (string, number, boolean) with credentials redacted,
e-mail addresses replaced and strings cut to ``MAX_VALUE_CHARS``. Everything else (nested objects,
lists, unknown keys: a sender's e-mail or name, a diff) is dropped before the row is written and
only counted (``mmm_signal_payload_fields_dropped_total{source}``). The allow-lists are documented
in ``docs/event-taxonomy.md``.
"""

from __future__ import annotations

from typing import Any

from mmm_project import metrics
from mmm_project.privacy import EMAIL
from mmm_project.privacy.secret_scan import redact_secrets

MAX_VALUE_CHARS = 500

# Fields any source may keep: what a signal is about, never who sent it or what it contained.
COMMON_FIELDS = frozenset(
    {
        "kind",
        "status",
        "conclusion",
        "check_name",
        "workflow",
        "job",
        "test_id",
        "rule_id",
        "alertname",
        "advisory_id",
        "run_id",
        "attempt",
        "count",
        "duration_ms",
        "summary",
    }
)
# The fields the built-in adapters write, by the envelope's ``source``.
SOURCE_FIELDS = {
    "github": frozenset({"github_event", "action"}),
    "alertmanager": frozenset({"alertname", "receiver"}),
}


def allowed_fields(source: str) -> frozenset[str]:
    """The payload fields a signal from ``source`` may keep."""
    return COMMON_FIELDS | SOURCE_FIELDS.get(source, frozenset())


def payload_minimise(payload: Any, *, source: str) -> dict[str, Any]:
    """The stored form of a signal's ``payload`` (a dict of scalars, possibly empty).

    Args:
        payload: the envelope's payload as received (any JSON value).
        source: the envelope's ``source``; selects the allow-list.
    Returns a new dict: allow-listed keys whose values are ``str``/``int``/``float``/``bool``/
    ``None``; strings have credentials redacted (``[REDACTED:<kind>]``), e-mail addresses replaced
    by ``[REDACTED:email]`` and are cut to ``MAX_VALUE_CHARS`` characters.
    """
    if not isinstance(payload, dict):
        payload = {}
    allowed = allowed_fields(source)
    kept: dict[str, Any] = {}
    for key, value in payload.items():
        if key not in allowed or not (value is None or isinstance(value, str | int | float | bool)):
            continue
        if isinstance(value, str):
            value = EMAIL.sub("[REDACTED:email]", redact_secrets(value, where="signal"))[:MAX_VALUE_CHARS]
        kept[key] = value
    dropped = len(payload) - len(kept)
    if dropped:
        metrics.SIGNAL_PAYLOAD_FIELDS_DROPPED.labels(metrics.source_label(source)).inc(dropped)
    return kept
