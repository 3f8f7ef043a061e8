"""Decisions, their actions and outcomes (spec 10.1 MMMDecision, MMMAction, MMMOutcome; FR-4..FR-7).

Decisions and actions are immutable once written: services create them, nothing edits them
except retention (``legal_hold`` protects a row from it, NFR-3) and actor deletion
(anonymisation of ``actor_id``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field
from mmm_project.vocabulary import ActionType, ActorType, Feedback, OutcomeResult, RouteChange


class Decision(models.Model):
    """A concrete set of actions chosen for one signal and context (spec 10.1 MMMDecision).

    ``suppressed_actions`` keeps every dropped candidate with its machine-readable reason, for
    receipts and the admin view; it is never returned to the actor (FR-7).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    actor_id = models.CharField(max_length=255)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices, default=ActorType.HUMAN)
    signal = models.OneToOneField(
        "decisions.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="decision"
    )
    context = models.JSONField(default=dict, blank=True, help_text="Data-minimised context (NFR-3).")
    playbooks_fired = models.JSONField(default=list, blank=True)
    policy_snapshot_id = models.CharField(max_length=255, blank=True)
    policy_version_ids = models.JSONField(default=list, blank=True)
    suppressed_actions = models.JSONField(default=list, blank=True)
    experiment_assignments = models.JSONField(default=dict, blank=True)
    policy_overrides = models.JSONField(
        default=list, blank=True, help_text="FR-11: windows and exceptions that lifted a restriction."
    )
    safety_summary = models.JSONField(default=dict, blank=True)
    degraded_mode = models.BooleanField(default=False)
    policy_stale = models.BooleanField(default=False)
    latency_warning = models.BooleanField(default=False)
    latency_ms = models.FloatField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_decisions"
        indexes = [
            models.Index(fields=["tenant_id", "created_at"], name="mmm_decision_tenant_created"),
            models.Index(fields=["tenant_id", "actor_id", "created_at"], name="mmm_decision_tenant_actor"),
        ]

    def __str__(self) -> str:
        return str(self.id)


class LLMStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the LLM Gateway"
    REQUESTING = "requesting", "Being enriched"
    ENRICHED = "enriched", "Enriched (safety pass or warn)"
    FALLBACK = "fallback", "Static template kept (gateway unavailable)"
    UNSAFE = "unsafe", "Suppressed: safety check failed"
    BUDGET_EXHAUSTED = "budget_exhausted", "Static template kept (daily token budget spent)"


class Action(models.Model):
    """One Mirror, Mentor or Multiplier intervention of a decision; ``payload`` is immutable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="actions")
    # PROTECT: playbook versions are never deleted, and a decision keeps the version it used.
    playbook_version = models.ForeignKey(
        "playbooks.PlaybookVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(max_length=16, choices=ActionType.choices)
    surfaces = models.JSONField(default=list)
    payload = models.JSONField(default=dict)
    surface_payloads = models.JSONField(default=dict, blank=True)
    route_reason = models.CharField(
        max_length=32,
        choices=RouteChange.choices,
        blank=True,
        help_text="FR-3: why the surfaces differ from the playbook's (escalation); blank: they do not.",
    )
    requires_consent = models.BooleanField(default=False)
    requires_dual_channel = models.BooleanField(default=False)
    priority = models.FloatField(default=0.0)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order within the decision, 0 = first.")
    consented_at = models.DateTimeField(
        null=True, blank=True, help_text="Multiplier: the actor's explicit consent."
    )
    experiment = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    variant = models.CharField(
        max_length=100, blank=True, help_text="Experiment variant that shaped this action."
    )
    llm_status = models.CharField(
        max_length=20,
        choices=LLMStatus.choices,
        blank=True,
        help_text="LLM enrichment (FR-5); blank: none asked.",
    )
    llm_prompt = models.TextField(
        blank=True, help_text="Rendered from the template over the minimised context."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_actions"
        ordering = ("position",)
        indexes = [models.Index(fields=["tenant_id", "created_at"], name="mmm_action_tenant_created")]
        constraints = [
            # FR-6: a Multiplier is always offered with explicit consent.
            models.CheckConstraint(
                condition=~Q(type=ActionType.MULTIPLIER) | Q(requires_consent=True),
                name="mmm_action_multiplier_requires_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def status(self) -> str:
        """``active``; ``pending_content`` while the LLM writes it; ``suppressed`` after the LLM safety
        check failed (FR-5, never shown); ``rejected`` when dual-channel approval was refused (FR-6)."""
        return self._status()[0]

    @property
    def status_reason(self) -> str | None:
        """Why the action is not active (``llm.unsafe``, ``dual_channel.rejected``), else None."""
        return self._status()[1]

    def _status(self) -> tuple[str, str | None]:
        if self.llm_status == LLMStatus.UNSAFE:
            return "suppressed", "llm.unsafe"
        approval = getattr(self, "dual_channel_approval", None)
        if approval is not None and approval.status == "rejected":
            return "rejected", "dual_channel.rejected"
        if self.llm_status in (LLMStatus.PENDING, LLMStatus.REQUESTING):
            return "pending_content", None
        return "active", None


class Outcome(models.Model):
    """How the actor or system responded to an action (spec 10.1 MMMOutcome, 11.3).

    Outcomes are kept longer than decisions (365 against 90 days by default, NFR-3), so the links
    to the decision and action are set to NULL when those are purged; ``action_type`` keeps the
    aggregates by type meaningful.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    action = models.ForeignKey(
        Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    action_type = models.CharField(max_length=16, choices=ActionType.choices)
    actor_id = models.CharField(max_length=255)
    # Reported results, and the actor's feedback on the action (issue 15: less like this...).
    result = models.CharField(max_length=16, choices=OutcomeResult.choices + Feedback.choices)
    reason = models.CharField(max_length=1000, blank=True)
    shown_at = models.DateTimeField(null=True, blank=True)
    interacted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_outcomes"
        indexes = [models.Index(fields=["tenant_id", "created_at"], name="mmm_outcome_tenant_created")]

    def __str__(self) -> str:
        return f"{self.result} {self.id}"
