"""Signals in (FR-1): stored signals, rejected messages, and the tenants' webhook senders.

Signals are immutable once written, except their ``status`` (received, decided, failed) and
retention and actor deletion (``legal_hold`` protects a row from both, NFR-3).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field
from mmm_project.vocabulary import ActorType, Severity


class SignalStatus(models.TextChoices):
    RECEIVED = "received", "Received, not yet decided"
    DECIDING = "deciding", "Claimed by a worker, being decided"
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
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker claimed it (status deciding)."
    )
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
            # The ingest sweep's: only signals not decided yet (a decided one costs no entry).
            models.Index(
                fields=["status", "received_at"],
                name="mmm_signal_status_received",
                condition=models.Q(status__in=[SignalStatus.RECEIVED, SignalStatus.DECIDING]),
            ),
            # Count triggers (issue 15): a repository's latest signals before a time.
            models.Index(
                F("tenant_id"),
                Coalesce(KT("context__repo_id"), Value("")),
                F("ts").desc(),
                name="mmm_signal_tenant_repo_ts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.signal_id})"


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
    """Which GitHub installation or owner a tenant's endpoint takes deliveries for.

    ``key`` is ``installation:<id>``, ``owner:<id>`` or ``org:<id>``, GitHub's numeric ids. Unique
    per tenant, not globally: registering a key never tells a tenant that another one has it. A
    delivery goes to the endpoint whose secret its signature verifies with (only the tenant that
    configured the webhook in GitHub holds it).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="routes")
    key = models.CharField(max_length=100, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_webhook_routes"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "key"], name="mmm_webhook_route_tenant_key_uniq"),
        ]

    def __str__(self) -> str:
        return self.key
