"""Tenant policy and actor preferences in the Django admin, through the API's services (FR-13, FR-14).

Forms validate with the API's input serializers and save with ``tenant_policy_update`` and
``actor_preferences_update``: each save writes its ``admin_config`` receipt and audit line and
drops the cached preferences, exactly as ``PUT`` on the API does. Nothing is deleted here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from mmm_project.admin import ServiceAdmin, add_serializer_errors, admin_actor_id
from preferences.models import ActorPreferences, TenantPolicy
from preferences.selectors import tenant_policy_state
from preferences.serializers import LLM_FIELDS, ActorPreferencesInputSerializer, TenantPolicyInputSerializer
from preferences.services import actor_preferences_update, tenant_policy_update

# API paths (TenantPolicyInputSerializer) whose model field is not the path's first part.
POLICY_FIELD_FOR = {
    "quiet_hours.start": "quiet_hours_start",
    "quiet_hours.end": "quiet_hours_end",
    "quiet_hours.timezone": "timezone",
    "retention.decision_days": "decision_retention_days",
    "retention.outcome_days": "outcome_retention_days",
    **{f"llm.{name}": field for name, field in LLM_FIELDS.items()},
    **{
        f"quotas.{name}": name
        for name in (
            "max_actions_per_hour",
            "max_actions_per_day",
            "max_actions_per_repo_per_day",
            "max_actions_per_decision",
        )
    },
}


class ServiceForm(forms.ModelForm):
    """A model form whose ``changes`` (model field names) are what the service receives."""

    changes: dict[str, Any]

    def changed_values(self, *, adding: bool) -> dict[str, Any]:
        """All validated values when adding; when changing, only the fields the admin changed."""
        if adding:
            return dict(self.changes)
        return {name: value for name, value in self.changes.items() if name in self.changed_data}


class TenantPolicyForm(ServiceForm):
    class Meta:
        model = TenantPolicy
        # In the model's order: what PUT /v1/mmm/tenants/{id}/policy takes, and the tenant on add.
        fields = tuple(
            f.name
            for f in TenantPolicy._meta.fields
            if f.name == "tenant_id" or f.name in TenantPolicy.EDITABLE_FIELDS
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = TenantPolicy(**{name: cleaned[name] for name in TenantPolicy.EDITABLE_FIELDS})
        try:
            request_body = tenant_policy_state(candidate)
        except (TypeError, ValueError, AttributeError):
            self.add_error(
                None, 'Lists must be JSON lists and priorities a JSON object of numbers ({"mentor": 2}).'
            )
            return cleaned
        serializer = TenantPolicyInputSerializer(data=request_body)
        if serializer.is_valid():
            self.changes = serializer.to_changes()
        else:
            add_serializer_errors(self, serializer.errors, POLICY_FIELD_FOR)
        return cleaned


@admin.register(TenantPolicy)
class TenantPolicyAdmin(ServiceAdmin):
    """Every field ``PUT /v1/mmm/tenants/{id}/policy`` takes; the others are shown read-only."""

    form = TenantPolicyForm
    list_display = (
        "tenant_id",
        "safety_critical",
        "max_actions_per_hour",
        "max_actions_per_day",
        "timezone",
        "updated_at",
    )
    list_filter = ("safety_critical",)
    search_fields = ("tenant_id",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fixed = ("created_at", "updated_at")
        return ("tenant_id", *fixed) if obj is not None else fixed

    def save_model(
        self, request: HttpRequest, obj: TenantPolicy, form: TenantPolicyForm, change: bool
    ) -> None:
        changes = form.changed_values(adding=not change)
        if change and not changes:
            return
        policy = tenant_policy_update(
            tenant_id=obj.tenant_id, changes=changes, actor_id=admin_actor_id(request)
        )
        obj.pk = policy.pk


class ActorPreferencesForm(ServiceForm):
    class Meta:
        model = ActorPreferences
        fields = ("tenant_id", "actor_id", "opt_out_categories", "preferred_surfaces", "snooze_until")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        editable = ("opt_out_categories", "preferred_surfaces", "snooze_until")
        serializer = ActorPreferencesInputSerializer(data={name: cleaned[name] for name in editable})
        if serializer.is_valid():
            self.changes = dict(serializer.validated_data)
        else:
            add_serializer_errors(self, serializer.errors)
        return cleaned


@admin.register(ActorPreferences)
class ActorPreferencesAdmin(ServiceAdmin):
    """What ``PUT /v1/mmm/actors/{id}/preferences`` takes (opt-outs, surfaces, snooze)."""

    form = ActorPreferencesForm
    list_display = ("preference_id", "tenant_id", "snooze_until", "updated_at")
    search_fields = ("tenant_id",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fixed = ("created_at", "updated_at")
        return ("tenant_id", "actor_id", *fixed) if obj is not None else fixed

    def save_model(
        self, request: HttpRequest, obj: ActorPreferences, form: ActorPreferencesForm, change: bool
    ) -> None:
        changes = form.changed_values(adding=not change)
        if change and not changes:
            return
        prefs = actor_preferences_update(
            tenant_id=obj.tenant_id,
            actor_id=obj.actor_id,
            changes=changes,
            changed_by=admin_actor_id(request),
        )
        obj.pk = prefs.pk
