"""Dual-channel approvals of Multiplier actions (FR-6)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from decisions.models.decisions import Action, Decision
from mmm_project.tenancy import TenantQuerySet, tenant_id_field


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
