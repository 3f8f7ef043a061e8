"""Tenant MMM policy (FR-13, spec 11.5) and actor preferences (FR-14, spec 11.4).

A tenant or actor with no stored row gets the defaults below: every surface and action type
enabled, 3 actions an hour and 10 a day (spec 11.5 example), quiet hours 22:00-06:00 UTC,
retention 90 days for decisions and 365 for outcomes (NFR-3).
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from mmm_project.tenancy import TenantQuerySet, tenant_id_field

ALL_SURFACES = ["ide", "ci", "alert"]
ALL_ACTION_TYPES = ["mirror", "mentor", "multiplier"]


def _all_surfaces() -> list[str]:
    return list(ALL_SURFACES)


def _all_action_types() -> list[str]:
    return list(ALL_ACTION_TYPES)


def _production_change() -> list[str]:
    return ["production_change"]


_hour = [MinValueValidator(0), MaxValueValidator(23)]


class TenantPolicy(models.Model):
    """A tenant's MMM policy: what may be proposed, where, how often and when (FR-7, FR-11, FR-13)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field(unique=True)
    enabled_surfaces = models.JSONField(default=_all_surfaces)
    enabled_action_types = models.JSONField(default=_all_action_types)
    restrictions = models.JSONField(
        default=list, blank=True, help_text="Disallowed action kinds, e.g. auto_patch_production."
    )
    max_actions_per_hour = models.PositiveIntegerField(default=3)
    max_actions_per_day = models.PositiveIntegerField(default=10)
    max_actions_per_repo_per_day = models.PositiveIntegerField(default=20)
    max_actions_per_decision = models.PositiveIntegerField(default=3)
    cooldown_minutes = models.PositiveIntegerField(
        default=60, help_text="Cool-down per (playbook, actor, repo), minutes."
    )
    quiet_hours_start = models.PositiveSmallIntegerField(default=22, validators=_hour)
    quiet_hours_end = models.PositiveSmallIntegerField(default=6, validators=_hour)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA zone for quiet hours.")
    safety_critical = models.BooleanField(
        default=False, help_text="Fail closed (no actions) when the Policy service is unavailable."
    )
    decision_retention_days = models.PositiveIntegerField(default=90)
    outcome_retention_days = models.PositiveIntegerField(default=365)
    priorities = models.JSONField(default=dict, blank=True, help_text="Tenant priority weights.")
    dual_channel_approvers = models.JSONField(default=list, blank=True)
    dual_channel_tags = models.JSONField(
        default=_production_change, blank=True, help_text="Multiplier tags that need dual-channel approval."
    )
    # FR-5, FR-13: the LLM Gateway's system prompt for this tenant, and the daily budgets that
    # stop enrichment (tokens and cost as the gateway reports them; null = no limit).
    # FR-11: time windows that lift or add restrictions, and exceptions that lift one restriction
    # for a repository or playbook until they expire (shapes in decisions.engine.overrides).
    override_windows = models.JSONField(default=list, blank=True)
    exception_approvals = models.JSONField(default=list, blank=True)
    system_prompt_id = models.CharField(max_length=255, blank=True)
    llm_daily_token_budget = models.PositiveIntegerField(null=True, blank=True)
    llm_daily_cost_budget = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # The fields the decision path reads: their content names the policy snapshot.
    DECISION_FIELDS = (
        "enabled_surfaces",
        "enabled_action_types",
        "restrictions",
        "max_actions_per_hour",
        "max_actions_per_day",
        "max_actions_per_repo_per_day",
        "max_actions_per_decision",
        "cooldown_minutes",
        "quiet_hours_start",
        "quiet_hours_end",
        "timezone",
        "safety_critical",
        "priorities",
        "dual_channel_tags",
        "override_windows",
        "exception_approvals",
    )
    # The fields PUT /v1/mmm/tenants/{tenant_id}/policy may change (spec 11.5).
    EDITABLE_FIELDS = frozenset(
        (
            *DECISION_FIELDS,
            "decision_retention_days",
            "outcome_retention_days",
            "dual_channel_approvers",
            "system_prompt_id",
            "llm_daily_token_budget",
            "llm_daily_cost_budget",
        )
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_tenant_policies"
        verbose_name_plural = "tenant policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_hours_start__lte=23) & Q(quiet_hours_end__lte=23),
                name="mmm_policy_quiet_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return f"policy of {self.tenant_id}"


class ActorPreferences(models.Model):
    """An actor's own controls: opt-out categories, snooze, preferred surfaces (FR-14)."""

    preference_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    actor_id = models.CharField(max_length=255)
    opt_out_categories = models.JSONField(default=list, blank=True)
    snooze_until = models.DateTimeField(null=True, blank=True)
    preferred_surfaces = models.JSONField(default=list, blank=True)
    muted_playbooks = models.JSONField(
        default=list, blank=True, help_text='"Less like this": [{"playbook_id", "until"}] (ISO 8601).'
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_actor_preferences"
        verbose_name_plural = "actor preferences"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "actor_id"], name="mmm_prefs_tenant_actor_uniq"),
        ]

    def __str__(self) -> str:
        return f"preferences {self.preference_id}"
