"""The engine's shared vocabulary: severities, actor and action types, surfaces, outcome results and
the reason codes of suppressed actions (spec 10.1, FR-1, FR-4..FR-8).

Plain Python, no Django: the pure engine (``decisions.engine``), every app and the models import it
from here, so apps import downwards only (DESIGN.md, Layout). Each enum's ``values`` lists the
stored values in order and ``choices`` gives ``(value, label)`` pairs for model fields, exactly as
Django's ``TextChoices`` would (the migrations hold the same choices).
"""

from __future__ import annotations

from enum import EnumMeta, StrEnum


class _ChoicesMeta(EnumMeta):
    @property
    def values(cls) -> list[str]:
        return [member.value for member in cls]

    @property
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class Choices(StrEnum, metaclass=_ChoicesMeta):
    """A string enum whose members carry a human label: ``MEMBER = "value", "Label"``."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Choices:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value.replace("_", " ").capitalize()
        return member


class ActorType(Choices):
    HUMAN = "human", "Human"
    AI_AGENT = "ai_agent", "AI agent"


class Severity(Choices):
    """Signal severity, lowest first; ``rank`` orders them for trigger thresholds."""

    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"

    @classmethod
    def rank(cls, value: str) -> int:
        """0 (info) to 4 (critical). Raises ValueError for an unknown severity."""
        return cls.values.index(value)


class ActionType(Choices):
    MIRROR = "mirror", "Mirror"
    MENTOR = "mentor", "Mentor"
    MULTIPLIER = "multiplier", "Multiplier"


class Surface(Choices):
    IDE = "ide", "IDE"
    CI = "ci", "CI/PR"
    ALERT = "alert", "Alerting"


class OutcomeResult(Choices):
    SHOWN = "shown", "Shown"
    IGNORED = "ignored", "Ignored"
    DISMISSED = "dismissed", "Dismissed"
    ACCEPTED = "accepted", "Accepted"
    FAILED = "failed", "Failed"


class Feedback(Choices):
    """An actor's feedback on an action (issue 15), stored as an outcome with its receipt."""

    LESS_LIKE_THIS = "less_like_this", "Less like this"
    NOT_RELEVANT = "not_relevant", "Not relevant"
    HELPFUL = "helpful", "Helpful"


class Suppression(Choices):
    """Why a proposed action was dropped (FR-7): kept on the decision and counted, never shown.

    A suppression record's ``reason`` is one of these, optionally followed by ``:detail``; the
    part before the colon is the metric label.
    """

    CAP_PER_DECISION = "fatigue.cap_per_decision"
    QUOTA_ACTOR_HOUR = "fatigue.quota_actor_hour"
    QUOTA_ACTOR_DAY = "fatigue.quota_actor_day"
    QUOTA_REPO_DAY = "fatigue.quota_repo_day"
    COOLDOWN = "fatigue.cooldown"
    QUIET_HOURS = "fatigue.quiet_hours"
    # FR-3, FR-7: a playbook's own routing rules and limits (``routing.quiet_hours``, ``limits``)
    PLAYBOOK_QUIET_HOURS = "fatigue.playbook_quiet_hours"
    QUOTA_PLAYBOOK_HOUR = "fatigue.playbook_quota_hour"
    QUOTA_PLAYBOOK_DAY = "fatigue.playbook_quota_day"
    ACTION_TYPE_DISABLED = "policy.action_type_disabled"
    SURFACES_DISABLED = "policy.surfaces_disabled"
    RESTRICTED = "policy.restricted"
    OVERRIDE_WINDOW = "policy.override_window"  # ":<window_id>": a window's added restriction
    POLICY_FAIL_CLOSED = "policy.unavailable_fail_closed"
    SNOOZED = "actor.snoozed"
    OPTED_OUT = "actor.opted_out"
    SURFACES_NOT_PREFERRED = "actor.surfaces_not_preferred"
    MUTED_PLAYBOOK = "actor.muted_playbook"
    TEMPLATE_RENDER_FAILED = "template.render_failed"
    PRESCRIPTIVE_MIRROR = "mirror.prescriptive_text"
    LLM_UNAVAILABLE = "llm.unavailable"
    # NFR-1: the surface's latency budget was spent before any action was reserved.
    LATENCY_BUDGET = "degraded.latency_budget"


class RouteChange(Choices):
    """Why a delivered action's surfaces differ from its template's (FR-3 escalation behaviour):
    kept on the action (``route_reason``) and its receipt."""

    ESCALATED = "routing.escalated", "Escalated after unacknowledged deliveries"
