"""Playbooks in the Django admin: metadata edits, publish and deprecate through the API's services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from mmm_project.admin import ReadOnlyAdmin, ServiceAdmin, admin_actor_id, apply_to_each
from mmm_project.errors import ApplicationError
from playbooks.models import Playbook, PlaybookTrigger, PlaybookVersion
from playbooks.services import playbook_deprecate, playbook_publish, playbook_update, version_document

PLAYBOOK_READ_ONLY = (
    "tenant_id",
    "status",
    "latest_version",
    "published_version",
    "created_at",
    "updated_at",
)


class PlaybookVersionInline(admin.TabularInline):
    model = PlaybookVersion
    fields = ("version", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Publish the latest version of selected", permissions=["change"])
def publish_playbooks(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    actor_id = admin_actor_id(request)
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda playbook: playbook_publish(playbook=playbook, actor_id=actor_id),
        "published",
    )


@admin.action(description="Deprecate selected (no longer matched)", permissions=["change"])
def deprecate_playbooks(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    actor_id = admin_actor_id(request)
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda playbook: playbook_deprecate(playbook=playbook, actor_id=actor_id),
        "deprecated",
    )


@admin.register(Playbook)
class PlaybookAdmin(ServiceAdmin):
    """Name, description and owner are editable: a save is ``PUT /v1/mmm/playbooks/{id}`` with the
    latest version's content, so it adds a version with its receipt. Status moves only by the
    publish and deprecate actions (the API's services); content changes go through the API or
    ``load_playbooks``. Nothing is added or deleted here."""

    list_display = ("name", "tenant_id", "status", "latest_version", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "tenant_id")
    fields = ("name", "description", "owner", *PLAYBOOK_READ_ONLY)
    readonly_fields = PLAYBOOK_READ_ONLY
    inlines = [PlaybookVersionInline]
    actions = [publish_playbooks, deprecate_playbooks]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Playbook, form: Any, change: bool) -> None:
        if not form.has_changed():
            return
        latest = obj.versions.filter(version=obj.latest_version).first()
        if latest is None:
            raise ApplicationError("INVALID_STATE", "The playbook has no version to carry the change.")
        # obj holds the form's name, description and owner; the content stays the latest version's.
        document = version_document(obj, latest)
        playbook_update(playbook=obj, document=document, actor_id=admin_actor_id(request))


@admin.register(PlaybookVersion)
class PlaybookVersionAdmin(ReadOnlyAdmin):
    list_display = ("playbook", "version", "tenant_id", "created_at")
    search_fields = ("playbook__name", "tenant_id")


@admin.register(PlaybookTrigger)
class PlaybookTriggerAdmin(ReadOnlyAdmin):
    """The matching index; rebuilt by publish and deprecate, never edited by hand."""

    list_display = ("event_type", "source", "min_severity_rank", "playbook", "tenant_id")
    list_filter = ("source",)
    search_fields = ("event_type", "tenant_id", "playbook__name")
