"""CloudEvents 1.0 structured JSON -> FR-1 envelope (https://github.com/cloudevents/spec).

``id`` -> ``signal_id``, ``source``, ``type`` -> ``event_type``, ``time`` -> ``ts`` (default: now),
``data`` -> ``payload`` (a non-object is wrapped as ``{"data": value}``; ``data_base64`` is kept as
is). Extension attributes carry the rest: ``tenantid``, ``actorid``, ``actortype``, ``severity``,
``repoid``, ``branch``, ``environment``, ``teamid``. Tenant and actor default to the caller's.
The result is validated by ``SignalEnvelopeSerializer`` like any envelope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

CONTEXT_EXTENSIONS = {
    "repoid": "repo_id",
    "branch": "branch",
    "environment": "environment",
    "teamid": "team_id",
}


def is_cloudevent(item: Any) -> bool:
    return isinstance(item, dict) and "specversion" in item


def cloudevent_to_envelope(
    event: dict[str, Any], *, tenant_id: str, actor_id: str, now: datetime
) -> dict[str, Any]:
    """Map one structured CloudEvent onto the envelope's fields (unvalidated; see module doc)."""
    if event.get("specversion") != "1.0":
        return {"specversion": event.get("specversion")}  # refused as an unknown field: only 1.0 is read
    if "data_base64" in event:
        payload: Any = {"data_base64": event["data_base64"]}
    else:
        payload = event.get("data") if isinstance(event.get("data"), dict) else {"data": event.get("data")}
    envelope = {
        "signal_id": event.get("id"),
        "tenant_id": event.get("tenantid", tenant_id),
        "actor_id": event.get("actorid", actor_id),
        "source": event.get("source"),
        "event_type": event.get("type"),
        "ts": event.get("time") or now.isoformat(),
        "payload": payload,
        "context": {name: event[attr] for attr, name in CONTEXT_EXTENSIONS.items() if attr in event},
    }
    for attribute, field in (("actortype", "actor_type"), ("severity", "severity")):
        if attribute in event:
            envelope[field] = event[attribute]
    return envelope
