"""Actor deletion requests (NFR-3 steps 1-4, PR-MMM-02)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class DeletionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PARTIALLY_COMPLETED = "partially_completed", "Partially completed (rows on legal hold kept)"
    COMPLETED = "completed", "Completed"


class ActorDeletionRequest(models.Model):
    """One request to forget an actor of a tenant, processed in batches by ``privacy.delete``.

    ``actor_id`` is kept only while the work is unfinished (rows on legal hold wait for their hold
    to be lifted); a completed request keeps counts and the anonymous id its rows received.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    actor_id = models.CharField(max_length=255, blank=True, help_text="Cleared once completed.")
    anonymous_id = models.CharField(max_length=64, help_text="What the actor's rows now say: deleted-<hex>.")
    status = models.CharField(max_length=24, choices=DeletionStatus.choices, default=DeletionStatus.PENDING)
    requested_via = models.CharField(max_length=64, help_text="api, broker, command.")
    counts = models.JSONField(default=dict, blank=True, help_text="Rows deleted or anonymised, per table.")
    held = models.JSONField(default=dict, blank=True, help_text="Rows kept because of a legal hold.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_actor_deletion_requests"
        indexes = [models.Index(fields=["status", "updated_at"], name="mmm_deletion_status_updated")]

    def __str__(self) -> str:
        return f"deletion {self.id} ({self.status})"
