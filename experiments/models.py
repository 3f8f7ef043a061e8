"""Experiments: control vs variants, with deterministic assignment (FR-9, FR-13, spec 11.6)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class AssignmentScope(models.TextChoices):
    ACTOR = "actor", "Actor"
    TEAM = "team", "Team"


class Experiment(models.Model):
    """A tenant experiment.

    ``variants`` is a list of ``{"name", "weight", "playbook_version_id" | "template"}``; the
    variant named ``control_variant`` keeps the usual behaviour. Experiments can never enable an
    action type or surface the tenant policy disables.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT)
    assignment_scope = models.CharField(
        max_length=16, choices=AssignmentScope.choices, default=AssignmentScope.ACTOR
    )
    playbook = models.ForeignKey(
        "playbooks.Playbook", null=True, blank=True, on_delete=models.PROTECT, related_name="experiments"
    )
    variants = models.JSONField(default=list)
    control_variant = models.CharField(max_length=100, default="control")
    activated_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_experiments"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "name"], name="mmm_experiment_tenant_name_uniq"),
        ]
        indexes = [models.Index(fields=["tenant_id", "status"], name="mmm_experiment_tenant_status")]

    def __str__(self) -> str:
        return self.name
