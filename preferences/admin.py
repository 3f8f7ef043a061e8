from django.contrib import admin

from preferences.models import ActorPreferences, TenantPolicy


@admin.register(TenantPolicy)
class TenantPolicyAdmin(admin.ModelAdmin):
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
    readonly_fields = ("created_at", "updated_at")


@admin.register(ActorPreferences)
class ActorPreferencesAdmin(admin.ModelAdmin):
    list_display = ("preference_id", "tenant_id", "snooze_until", "updated_at")
    search_fields = ("tenant_id",)
    readonly_fields = ("created_at", "updated_at")
