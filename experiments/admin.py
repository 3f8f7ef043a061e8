"""Experiments in the Django admin through the API's services (spec 11.6, FR-13).

Adding is ``POST /v1/mmm/experiments`` (the tenant is the playbook's), editing is ``PUT`` (refused
while active), and the activate and deactivate actions are the API's: each writes its receipt and
audit line. Forms validate with the API's input serializers. Nothing is deleted here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from experiments.models import BanditArm, Experiment
from experiments.serializers import ExperimentInputSerializer, ExperimentUpdateSerializer
from experiments.services import (
    EDITABLE,
    experiment_activate,
    experiment_create,
    experiment_deactivate,
    experiment_update,
)
from mmm_project.admin import (
    ReadOnlyAdmin,
    ServiceAdmin,
    add_serializer_errors,
    admin_actor_id,
    apply_to_each,
)

READ_ONLY = ("tenant_id", "status", "activated_at", "deactivated_at", "created_at", "updated_at")


class ExperimentForm(forms.ModelForm):
    """Validated as the API validates the same request; ``data_for_service`` is what the service receives."""

    data_for_service: dict[str, Any]

    class Meta:
        model = Experiment
        fields = ("playbook", *EDITABLE)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        adding = self.instance._state.adding
        body = {name: cleaned[name] for name in EDITABLE if name in cleaned}
        if adding:
            playbook = cleaned.get("playbook")
            if playbook is None:
                self.add_error("playbook", "an experiment belongs to one playbook")
                return cleaned
            body["playbook_id"] = str(playbook.pk)
        else:
            body = {name: value for name, value in body.items() if name in self.changed_data}
        serializer = (ExperimentInputSerializer if adding else ExperimentUpdateSerializer)(data=body)
        if serializer.is_valid():
            self.data_for_service = dict(serializer.validated_data)
        else:
            add_serializer_errors(self, serializer.errors, {"playbook_id": "playbook"})
        return cleaned


@admin.action(description="Activate selected (start assigning)", permissions=["change"])
def activate_experiments(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    actor_id = admin_actor_id(request)
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda experiment: experiment_activate(experiment=experiment, actor_id=actor_id),
        "activated",
    )


@admin.action(description="Deactivate selected (stop assigning)", permissions=["change"])
def deactivate_experiments(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    actor_id = admin_actor_id(request)
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda experiment: experiment_deactivate(experiment=experiment, actor_id=actor_id),
        "deactivated",
    )


@admin.register(Experiment)
class ExperimentAdmin(ServiceAdmin):
    form = ExperimentForm
    list_display = ("name", "tenant_id", "status", "type", "assignment_scope", "updated_at")
    list_filter = ("status", "type", "assignment_scope")
    search_fields = ("name", "tenant_id")
    actions = [activate_experiments, deactivate_experiments]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # An experiment stays on its playbook (the API's PUT has no playbook_id).
        return ("playbook", *READ_ONLY) if obj is not None else READ_ONLY

    def save_model(self, request: HttpRequest, obj: Experiment, form: ExperimentForm, change: bool) -> None:
        actor_id = admin_actor_id(request)
        if not change:
            created = experiment_create(
                tenant_id=obj.playbook.tenant_id, data=form.data_for_service, actor_id=actor_id
            )
            obj.pk = created.pk
        elif form.data_for_service:
            experiment_update(experiment=obj, data=form.data_for_service, actor_id=actor_id)


@admin.register(BanditArm)
class BanditArmAdmin(ReadOnlyAdmin):
    """A bandit's posteriors (FR-9): read here; only outcomes move them."""

    list_display = ("experiment", "tenant_id", "variant", "successes", "failures", "updated_at")
    search_fields = ("tenant_id", "variant")
