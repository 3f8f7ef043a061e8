from django.contrib import admin

from experiments.models import Experiment


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ("name", "tenant_id", "status", "assignment_scope", "updated_at")
    list_filter = ("status", "assignment_scope")
    search_fields = ("name", "tenant_id")
    readonly_fields = ("status", "activated_at", "deactivated_at", "created_at", "updated_at")
