"""GitHub webhooks -> FR-1 envelopes (``X-GitHub-Event`` + payload), as pure functions.

Event types and severities: ``docs/event-taxonomy.md`` (the taxonomy playbooks trigger on).

Anything else is ignored with a reason (202 ``ignored``): other events (``ping``...), other
actions (a check run ``created``), states that carry no signal yet (``queued``, ``pending``,
``in_progress``, a ``neutral`` or ``skipped`` conclusion), and tag pushes.

Tenant: ``installation:<id>``, then ``owner:<id>`` (repository owner), then ``org:<id>``.
Actor: ``github:<sender.id>`` (GitHub's numeric id: no login names stored); ``ai_agent`` for
bots (``sender.type`` Bot or Organization, or a bot ``deployment_status.creator``).
Signal id: ``github:<X-GitHub-Delivery>``, so a redelivery is the same signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FAILED_CONCLUSIONS = {"failure", "timed_out", "action_required", "startup_failure"}
CI_EVENTS = {
    "check_run": "check_run",
    "check_suite": "check_suite",
    "workflow_run": "workflow_run",
    "workflow_job": "workflow_job",
}
RULE_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
ADVISORY_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
}


@dataclass(frozen=True)
class Ignored:
    reason: str


@dataclass(frozen=True)
class Mapped:
    """What the payload says, before the tenant is known."""

    event_type: str
    severity: str
    branch: str = ""
    environment: str = ""


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def tenant_keys(payload: dict[str, Any]) -> list[str]:
    """Route keys to look the tenant up by, most specific first."""
    keys = []
    for prefix, value in (
        ("installation", _get(payload, "installation", "id")),
        ("owner", _get(payload, "repository", "owner", "id")),
        ("org", _get(payload, "organization", "id")),
    ):
        if isinstance(value, int | str) and str(value):
            keys.append(f"{prefix}:{value}")
    return keys


def _ci(event: str, payload: dict[str, Any]) -> Mapped | Ignored:
    run = payload.get(CI_EVENTS[event]) or {}
    action = payload.get("action")
    if action != "completed":
        return Ignored(f"{event} action {action!r} carries no outcome")
    conclusion = run.get("conclusion")
    branch = run.get("head_branch") or _get(run, "check_suite", "head_branch") or ""
    if conclusion in FAILED_CONCLUSIONS:
        return Mapped(f"ci.{event}.failed", "high", branch)
    if conclusion == "cancelled":
        return Mapped(f"ci.{event}.cancelled", "low", branch)
    if conclusion == "success":
        return Mapped(f"ci.{event}.succeeded", "info", branch)
    return Ignored(f"{event} conclusion {conclusion!r} carries no signal")


def _status(payload: dict[str, Any]) -> Mapped | Ignored:
    state = payload.get("state")
    branches = [b.get("name") for b in payload.get("branches") or [] if isinstance(b, dict)]
    default = _get(payload, "repository", "default_branch")
    branch = default if default in branches else (branches[0] if branches else "")
    if state in ("failure", "error"):
        return Mapped("ci.status.failed", "high", branch or "")
    if state == "success":
        return Mapped("ci.status.succeeded", "info", branch or "")
    return Ignored(f"status state {state!r} carries no outcome")


def _deployment(payload: dict[str, Any]) -> Mapped | Ignored:
    state = _get(payload, "deployment_status", "state")
    branch = _get(payload, "deployment", "ref") or ""
    environment = (
        _get(payload, "deployment", "environment") or _get(payload, "deployment_status", "environment") or ""
    )
    if state in ("failure", "error"):
        return Mapped("deploy.failed", "high", branch, environment)
    if state == "success":
        return Mapped("deploy.succeeded", "info", branch, environment)
    return Ignored(f"deployment_status state {state!r} carries no outcome")


def _pull_request(payload: dict[str, Any]) -> Mapped | Ignored:
    action = payload.get("action")
    branch = _get(payload, "pull_request", "head", "ref") or ""
    if action == "closed":
        merged = bool(_get(payload, "pull_request", "merged"))
        return Mapped(f"review.pull_request.{'merged' if merged else 'closed'}", "info", branch)
    if action in ("opened", "reopened", "synchronize", "ready_for_review"):
        return Mapped(f"review.pull_request.{action}", "info", branch)
    return Ignored(f"pull_request action {action!r} is not mapped")


def _review(payload: dict[str, Any]) -> Mapped | Ignored:
    action = payload.get("action")
    branch = _get(payload, "pull_request", "head", "ref") or ""
    if action == "dismissed":
        return Mapped("review.dismissed", "low", branch)
    if action == "submitted":
        state = (_get(payload, "review", "state") or "").lower()
        mapping = {
            "changes_requested": ("review.changes_requested", "medium"),
            "approved": ("review.approved", "info"),
            "commented": ("review.commented", "info"),
        }
        if state in mapping:
            return Mapped(*mapping[state], branch)
        return Ignored(f"review state {state!r} is not mapped")
    return Ignored(f"pull_request_review action {action!r} is not mapped")


def _alert(event: str, payload: dict[str, Any]) -> Mapped | Ignored:
    action = payload.get("action")
    opened = {"created", "reopened", "appeared_in_branch", "reopened_by_user"}
    resolved = {"fixed", "closed_by_user", "dismissed", "auto_dismissed", "resolved"}
    kind = event.removesuffix("_alert")
    ref = payload.get("ref") or ""
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
    if event == "secret_scanning_alert":
        severity = "critical"
    elif event == "code_scanning_alert":
        level = _get(payload, "alert", "rule", "security_severity_level")
        severity = ADVISORY_SEVERITY.get(level) or RULE_SEVERITY.get(
            _get(payload, "alert", "rule", "severity"), "medium"
        )
    else:
        severity = ADVISORY_SEVERITY.get(_get(payload, "alert", "security_advisory", "severity"), "medium")
    if action in opened:
        return Mapped(f"security.{kind}.opened", severity, branch)
    if action in resolved:
        return Mapped(f"security.{kind}.resolved", "info", branch)
    return Ignored(f"{event} action {action!r} is not mapped")


def _push(payload: dict[str, Any]) -> Mapped | Ignored:
    ref = payload.get("ref") or ""
    if not ref.startswith("refs/heads/"):
        return Ignored("push to a tag or other ref carries no signal")
    if payload.get("deleted"):
        return Ignored("branch deletion carries no signal")
    return Mapped("vcs.push", "info", ref.removeprefix("refs/heads/"))


def map_event(event: str, payload: dict[str, Any]) -> Mapped | Ignored:
    """Map one GitHub delivery onto the taxonomy above, or say why it is ignored."""
    if event in CI_EVENTS:
        return _ci(event, payload)
    handlers = {
        "status": _status,
        "deployment_status": _deployment,
        "pull_request": _pull_request,
        "pull_request_review": _review,
        "push": _push,
    }
    if event in handlers:
        return handlers[event](payload)
    if event in ("code_scanning_alert", "dependabot_alert", "secret_scanning_alert"):
        return _alert(event, payload)
    return Ignored(f"event {event!r} is not mapped")


def actor(event: str, payload: dict[str, Any]) -> tuple[str, str]:
    """``(actor_id, actor_type)`` from ``sender`` (numeric id, never the login)."""
    sender = payload.get("sender") or {}
    is_bot = sender.get("type") in ("Bot", "Organization") or str(sender.get("login", "")).endswith("[bot]")
    creator = _get(payload, "deployment_status", "creator") or {}
    if event == "deployment_status" and (
        creator.get("type") == "Bot" or str(creator.get("login", "")).endswith("[bot]")
    ):
        is_bot = True
    return f"github:{sender.get('id', 'unknown')}", "ai_agent" if is_bot else "human"


def envelope(
    *, event: str, delivery_id: str, payload: dict[str, Any], mapped: Mapped, tenant_id: str, received_at: str
) -> dict[str, Any]:
    """The FR-1 envelope for a mapped delivery (validated by ``SignalEnvelopeSerializer``)."""
    actor_id, actor_type = actor(event, payload)
    context = {"repo_id": _get(payload, "repository", "full_name") or "", "branch": mapped.branch}
    if mapped.environment:
        context["environment"] = mapped.environment
    return {
        "signal_id": f"github:{delivery_id}",
        "tenant_id": tenant_id,
        "actor_id": actor_id,
        "actor_type": actor_type,
        "source": "github",
        "event_type": mapped.event_type,
        "severity": mapped.severity,
        "ts": received_at,
        "payload": {"github_event": event, "action": payload.get("action")},
        "context": {k: v for k, v in context.items() if v},
    }
