"""Alertmanager webhook bodies (versions 3 and 4) -> FR-1 envelopes, one per alert.

See ``docs/event-taxonomy.md`` for the mapping. Pure functions; the view authenticates.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "p1": "critical",
    "emergency": "critical",
    "error": "high",
    "high": "high",
    "major": "high",
    "p2": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "p3": "medium",
    "low": "low",
    "minor": "low",
    "p4": "low",
    "info": "info",
    "informational": "info",
    "none": "info",
}
VERSIONS = ("3", "4")


class AlertmanagerBodyError(ValueError):
    """The body is not an Alertmanager webhook message; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _fingerprint(payload: dict[str, Any], labels: dict[str, Any]) -> str:
    material = json.dumps({"group": payload.get("groupKey", ""), "labels": labels}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def alerts_to_envelopes(
    payload: Any, *, tenant_id: str, received_at: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return ``(envelopes, ignored reasons)`` for one webhook body.

    Raises:
        AlertmanagerBodyError: not an object, an unknown ``version``, or ``alerts`` not a list.
    """
    if not isinstance(payload, dict):
        raise AlertmanagerBodyError("body", "must be an Alertmanager webhook object")
    if str(payload.get("version", "")) not in VERSIONS:
        raise AlertmanagerBodyError("version", f"must be one of {', '.join(VERSIONS)}")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise AlertmanagerBodyError("alerts", "must be a list")
    common = payload.get("commonLabels") if isinstance(payload.get("commonLabels"), dict) else {}
    envelopes, ignored = [], []
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            ignored.append(f"alerts[{index}] is not an object")
            continue
        labels = {**common, **(alert.get("labels") if isinstance(alert.get("labels"), dict) else {})}
        status = alert.get("status") or payload.get("status")
        if status not in ("firing", "resolved"):
            ignored.append(f"alerts[{index}] status {status!r} is not firing or resolved")
            continue
        fingerprint = alert.get("fingerprint") or _fingerprint(payload, labels)
        severity = SEVERITY.get(str(labels.get("severity", "")).lower(), "medium")
        owner = labels.get("team") or labels.get("service") or labels.get("job") or "unassigned"
        context = {
            "environment": labels.get("env") or labels.get("environment") or "",
            "repo_id": labels.get("repo") or labels.get("repository") or "",
            "team_id": labels.get("team") or "",
        }
        envelopes.append(
            {
                "signal_id": f"alertmanager:{fingerprint}:{status}:{alert.get('startsAt', '')}"[:255],
                "tenant_id": tenant_id,
                "actor_id": f"team:{owner}"[:255],
                "actor_type": "human",
                "source": "alertmanager",
                "event_type": f"incident.{status}",
                "severity": severity if status == "firing" else "info",
                "ts": alert.get("startsAt") if status == "firing" and alert.get("startsAt") else received_at,
                "payload": {
                    "alertname": labels.get("alertname", ""),
                    "receiver": payload.get("receiver", ""),
                },
                "context": {k: str(v) for k, v in context.items() if v},
            }
        )
    return envelopes, ignored
