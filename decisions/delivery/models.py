"""Delivery to surfaces (FR-8) and LLM enrichment (FR-5): per-surface deliveries, LLM-written
revisions of actions, and LLM usage per tenant and day."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field
from mmm_project.vocabulary import Surface


class DeliveryStatus(models.TextChoices):
    RECORDED = "recorded", "Recorded (pulled by the surface, no push configured)"
    HELD = "held", "Held until LLM enrichment settles"
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


OUTBOX_OPEN = models.Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED])


class Delivery(models.Model):
    """One action on one surface (FR-8): pushed to a peer (Alerting...) or recorded for pulling."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    # No index of its own: the unique (action, surface) constraint's index starts with it.
    action = models.ForeignKey(
        "decisions.Action", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    surface = models.CharField(max_length=16, choices=Surface.choices)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="Pending: when the sweep sends it next (backoff after failures)."
    )
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_deliveries"
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["action", "surface"], name="mmm_delivery_action_surface_uniq"),
        ]
        # The outbox sweeps' and backlog's indexes hold only the rows still to send (or failed):
        # a recorded or sent delivery, nearly every row, costs no entry in them (issue 13).
        indexes = [
            models.Index(
                fields=["status", "updated_at"], name="mmm_delivery_status_updated", condition=OUTBOX_OPEN
            ),
            models.Index(
                fields=["status", "next_attempt_at"], name="mmm_delivery_status_next", condition=OUTBOX_OPEN
            ),
        ]

    def __str__(self) -> str:
        return f"{self.surface} {self.status}"


class ActionRevision(models.Model):
    """LLM-written content for an action (FR-5): a new revision; the action's payload never changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    action = models.ForeignKey("decisions.Action", on_delete=models.CASCADE, related_name="revisions")
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
        verbose_name = "LLM usage"
        verbose_name_plural = "LLM usage"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "day"], name="mmm_llm_usage_tenant_day_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}: {self.tokens} tokens"
