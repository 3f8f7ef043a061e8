"""Experiments: control vs variants, assigned deterministically (A/B) or by a tenant's own
Thompson-sampling bandit (FR-9, FR-13, spec 11.6)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class ExperimentType(models.TextChoices):
    AB = "ab", "A/B (deterministic assignment)"
    BANDIT = "bandit", "Bandit (Thompson sampling)"


class AssignmentScope(models.TextChoices):
    ACTOR = "actor", "Actor"
    TEAM = "team", "Team"


class Experiment(models.Model):
    """A tenant experiment.

    ``variants`` is a list of ``{"name", "weight", "playbook_version_id" | "template"}``; the
    variant named ``control_variant`` keeps the usual behaviour. Experiments can never enable an
    action type or surface the tenant policy disables. ``type`` ``ab`` assigns each actor (or
    team) a fixed variant by weight; ``bandit`` picks a variant per decision by Thompson sampling
    over the tenant's ``BanditArm`` posteriors (FR-9; weights and scope are then unused).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT)
    type = models.CharField(max_length=16, choices=ExperimentType.choices, default=ExperimentType.AB)
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


class BanditArm(models.Model):
    """One variant's Beta posterior in one tenant's bandit experiment (FR-9; no state is shared
    across tenants: NFR-5, spec 9).

    The prior is Beta(1, 1); ``successes`` counts actions of the variant the actor accepted and
    ``failures`` those dismissed or ignored (the first such outcome of an action only), so the
    posterior is Beta(1 + successes, 1 + failures). Counters only move through ``F()`` updates.
    Aggregates of a tenant's responses, never a score of a person (FR-9, NFR-4).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="bandit_arms")
    variant = models.CharField(max_length=100)
    successes = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_bandit_arms"
        constraints = [
            models.UniqueConstraint(fields=["experiment", "variant"], name="mmm_bandit_arm_variant_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}:{self.variant}"

    @property
    def alpha(self) -> int:
        return 1 + self.successes

    @property
    def beta(self) -> int:
        return 1 + self.failures
