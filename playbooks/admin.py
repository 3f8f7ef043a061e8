from django.contrib import admin

from mmm_project.admin import ReadOnlyAdmin
from playbooks.models import Playbook, PlaybookTrigger, PlaybookVersion


class PlaybookVersionInline(admin.TabularInline):
    model = PlaybookVersion
    fields = ("version", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    """Metadata is editable; status and versions change only through the playbook API."""

    list_display = ("name", "tenant_id", "status", "latest_version", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "tenant_id")
    readonly_fields = (
        "tenant_id",
        "status",
        "latest_version",
        "published_version",
        "created_at",
        "updated_at",
    )
    inlines = [PlaybookVersionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
