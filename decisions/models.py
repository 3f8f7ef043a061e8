"""Signals, decisions, actions, outcomes and dual-channel approvals (spec 10.1, FR-1, FR-6, FR-12).

Decisions, actions and signals are immutable once written: services create them, nothing edits
them except retention (``legal_hold`` protects a row from it, NFR-3) and actor deletion
(anonymisation of ``actor_id``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class ActorType(models.TextChoices):
    HUMAN = "human", "Human"
    AI_AGENT = "ai_agent", "AI agent"


class Severity(models.TextChoices):
    """Signal severity, lowest first; ``rank`` orders them for trigger thresholds."""

    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"

    @classmethod
    def rank(cls, value: str) -> int:
        return cls.values.index(value)


class ActionType(models.TextChoices):
    MIRROR = "mirror", "Mirror"
    MENTOR = "mentor", "Mentor"
    MULTIPLIER = "multiplier", "Multiplier"


class Surface(models.TextChoices):
    IDE = "ide", "IDE"
    CI = "ci", "CI/PR"
    ALERT = "alert", "Alerting"


class OutcomeResult(models.TextChoices):
    SHOWN = "shown", "Shown"
    IGNORED = "ignored", "Ignored"
    DISMISSED = "dismissed", "Dismissed"
    ACCEPTED = "accepted", "Accepted"
    FAILED = "failed", "Failed"


class SignalStatus(models.TextChoices):
    RECEIVED = "received", "Received, not yet decided"
    DECIDED = "decided", "Decided"
    FAILED = "failed", "Could not be decided"


class Signal(models.Model):
    """One normalised signal envelope (FR-1), stored once per ``(tenant_id, signal_id)``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    signal_id = models.CharField(max_length=255, help_text="The producer's id; idempotency key.")
    actor_id = models.CharField(max_length=255)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices, default=ActorType.HUMAN)
    source = models.CharField(max_length=128)
    event_type = models.CharField(max_length=128)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    ts = models.DateTimeField(help_text="When the event happened (producer clock).")
    payload = models.JSONField(default=dict, blank=True)
    context = models.JSONField(
        default=dict, blank=True, help_text="repo_id, branch, file_path, environment, team_id, roles only."
    )
    status = models.CharField(max_length=16, choices=SignalStatus.choices, default=SignalStatus.RECEIVED)
    last_error = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    legal_hold = models.BooleanField(default=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_signals"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "signal_id"], name="mmm_signal_tenant_signal_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "actor_id", "-ts"], name="mmm_signal_tenant_actor_ts"),
            models.Index(fields=["tenant_id", "received_at"], name="mmm_signal_tenant_received"),
            models.Index(fields=["status", "received_at"], name="mmm_signal_status_received"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.signal_id})"


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
        Signal, null=True, blank=True, on_delete=models.SET_NULL, related_name="decision"
    )
    context = models.JSONField(default=dict, blank=True, help_text="Data-minimised context (NFR-3).")
    playbooks_fired = models.JSONField(default=list, blank=True)
    policy_snapshot_id = models.CharField(max_length=255, blank=True)
    policy_version_ids = models.JSONField(default=list, blank=True)
    suppressed_actions = models.JSONField(default=list, blank=True)
    experiment_assignments = models.JSONField(default=dict, blank=True)
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
    result = models.CharField(max_length=16, choices=OutcomeResult.choices)
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


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    FIRST_APPROVED = "first_approved", "First approved"
    FULLY_APPROVED = "fully_approved", "Fully approved"
    REJECTED = "rejected", "Rejected"


class DualChannelApproval(models.Model):
    """Dual-channel approval of a Multiplier action (FR-6, table ``mmm_dual_channel_approvals``).

    The acting actor approves first, a designated approver second; the database refuses an
    approver equal to the actor.
    """

    approval_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    action = models.OneToOneField(Action, on_delete=models.CASCADE, related_name="dual_channel_approval")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="approvals")
    actor_id = models.CharField(max_length=255)
    approver_id = models.CharField(max_length=255, blank=True)
    first_approval_at = models.DateTimeField(null=True, blank=True)
    second_approval_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    rejected_by = models.CharField(max_length=255, blank=True)
    rejection_reason = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_dual_channel_approvals"
        indexes = [models.Index(fields=["tenant_id", "status"], name="mmm_approval_tenant_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(approver_id="") | ~Q(approver_id=F("actor_id")),
                name="mmm_approval_distinct_people",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.approval_id}"


class RejectedSignal(models.Model):
    """A message that could not be turned into a signal, kept with its reason (FR-1).

    Only the reason, the channel and the message's shape are kept, never its content: a
    rejected message may carry anything.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field(blank=True)
    channel = models.CharField(
        max_length=100, help_text="api, webhook:github, broker:pm3.signals.normalized..."
    )
    reason = models.CharField(max_length=1000)
    message_keys = models.JSONField(default=list, blank=True, help_text="Top-level keys of the message.")
    message_bytes = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_rejected_signals"
        indexes = [models.Index(fields=["tenant_id", "received_at"], name="mmm_rejected_tenant_received")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.reason[:60]}"


class WebhookProvider(models.TextChoices):
    GITHUB = "github", "GitHub"
    ALERTMANAGER = "alertmanager", "Alertmanager"


class WebhookEndpoint(models.Model):
    """A tenant's webhook sender: GitHub (HMAC secret, encrypted at rest) or Alertmanager (bearer
    token, stored as its SHA-256 only). Neither is ever logged or returned after creation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    provider = models.CharField(max_length=16, choices=WebhookProvider.choices)
    name = models.CharField(max_length=200)
    secret_encrypted = models.TextField(blank=True, help_text="GitHub: Fernet-encrypted HMAC secret.")
    token_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Alertmanager: SHA-256 of the token."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_webhook_endpoints"
        constraints = [
            models.UniqueConstraint(
                fields=["token_sha256"], condition=~Q(token_sha256=""), name="mmm_webhook_token_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.name}"


class WebhookRoute(models.Model):
    """Which GitHub installation or owner belongs to which endpoint (and so to which tenant).

    ``key`` is ``installation:<id>``, ``owner:<id>`` or ``org:<id>``, GitHub's numeric ids.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="routes")
    key = models.CharField(max_length=100, unique=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_webhook_routes"

    def __str__(self) -> str:
        return self.key


class DeliveryStatus(models.TextChoices):
    RECORDED = "recorded", "Recorded (pulled by the surface, no push configured)"
    HELD = "held", "Held until LLM enrichment settles"
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One action on one surface (FR-8): pushed to a peer (Alerting...) or recorded for pulling."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="deliveries")
    surface = models.CharField(max_length=16, choices=Surface.choices)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_deliveries"
        constraints = [
            models.UniqueConstraint(fields=["action", "surface"], name="mmm_delivery_action_surface_uniq"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="mmm_delivery_status_updated")]

    def __str__(self) -> str:
        return f"{self.surface} {self.status}"


class ActionRevision(models.Model):
    """LLM-written content for an action (FR-5): a new revision; the action's payload never changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    surface_payloads = models.JSONField(default=dict)
    safety_status = models.CharField(max_length=8)
    risk_flags = models.JSONField(default=list, blank=True)
    redaction_summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_action_revisions"
        constraints = [
            models.UniqueConstraint(fields=["action", "revision"], name="mmm_action_revision_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.action_id} r{self.revision}"


class LLMUsage(models.Model):
    """Tokens and cost the LLM Gateway reported, per tenant and UTC day (for the daily budget)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    day = models.DateField()
    tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    requests = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_llm_usage"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "day"], name="mmm_llm_usage_tenant_day_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}: {self.tokens} tokens"
