"""Playbooks and their immutable versions (FR-3, spec 10.1 MMMPlaybook, 11.2).

A ``Playbook`` is the mutable head (name, owner, status, which version is live). Its content
(triggers, CEL conditions, action templates, limits) lives in ``PlaybookVersion`` rows, which are
only ever created: an update adds version n+1, and decisions keep pointing at the version they used.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class PlaybookStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    DEPRECATED = "deprecated", "Deprecated"


class Playbook(models.Model):
    """A tenant's playbook: metadata, lifecycle status and the currently published version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.CharField(
        max_length=255, blank=True, help_text="Owning team or role, not a person's name."
    )
    status = models.CharField(max_length=16, choices=PlaybookStatus.choices, default=PlaybookStatus.DRAFT)
    latest_version = models.PositiveIntegerField(default=0)
    published_version = models.ForeignKey(
        "PlaybookVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_playbooks"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "name"], name="mmm_playbook_tenant_name_uniq"),
        ]
        indexes = [
            # NFR-1: playbook queries use (tenant_id, status).
            models.Index(fields=["tenant_id", "status"], name="mmm_playbook_tenant_status"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaybookVersion(models.Model):
    """One immutable version of a playbook's content.

    Shapes: ``triggers`` is a list of ``{"event_type", "source", "min_severity", "actor_roles"}``;
    ``conditions`` a list of CEL expressions over the context; ``actions`` a list of action
    templates ``{"type", "surfaces", "title", "body", ...}``; ``limits`` a dict of the cool-down and
    per-actor quotas; ``routing`` the playbook's routing rules ``{"quiet_hours", "escalation"}``
    (FR-3, ``playbooks.routing_spec``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    triggers = models.JSONField(default=list)
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    limits = models.JSONField(default=dict, blank=True)
    routing = models.JSONField(default=dict, blank=True)
    experiment_metadata = models.JSONField(default=dict, blank=True)
    created_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_playbook_versions"
        constraints = [
            models.UniqueConstraint(fields=["playbook", "version"], name="mmm_playbook_version_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} v{self.version}"


class PlaybookTrigger(models.Model):
    """The matching index (FR-3): one row per trigger of each *published* playbook version.

    Rebuilt when a playbook is published or deprecated, so lookups touch only rows whose
    ``(tenant_id, event_type, source, min_severity_rank)`` fit the signal: cost grows with the
    playbooks that could match, not with all the tenant has. ``event_type`` is exact, a prefix
    pattern (``ci.*``) or ``*``; ``source`` is exact or ``*``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="triggers")
    version = models.ForeignKey(PlaybookVersion, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=128)
    source = models.CharField(max_length=128, default="*")
    min_severity_rank = models.PositiveSmallIntegerField(default=0)
    actor_roles = models.JSONField(default=list, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_playbook_triggers"
        indexes = [
            models.Index(
                fields=["tenant_id", "event_type", "source", "min_severity_rank"], name="mmm_trigger_lookup"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} from {self.source}"
