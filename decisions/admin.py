from django.contrib import admin

from decisions.models import Action, Decision, DualChannelApproval, Outcome, Signal
from mmm_project.admin import LegalHoldReadOnlyAdmin, ReadOnlyAdmin


@admin.register(Signal)
class SignalAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("signal_id", "tenant_id", "source", "event_type", "severity", "ts", "legal_hold")
    list_filter = ("source", "severity", "legal_hold")
    search_fields = ("tenant_id", "signal_id", "event_type")
    date_hierarchy = "received_at"


class ActionInline(admin.TabularInline):
    model = Action
    fields = ("type", "surfaces", "requires_consent", "requires_dual_channel", "priority", "playbook_version")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(LegalHoldReadOnlyAdmin):
    list_display = (
        "id",
        "tenant_id",
        "actor_type",
        "created_at",
        "degraded_mode",
        "policy_stale",
        "legal_hold",
    )
    list_filter = ("actor_type", "degraded_mode", "policy_stale", "latency_warning", "legal_hold")
    search_fields = ("id", "tenant_id")
    date_hierarchy = "created_at"
    inlines = [ActionInline]


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant_id", "type", "requires_consent", "requires_dual_channel", "created_at")
    list_filter = ("type", "requires_consent", "requires_dual_channel")
    search_fields = ("id", "tenant_id", "decision__id")


@admin.register(Outcome)
class OutcomeAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("id", "tenant_id", "action_type", "result", "created_at", "legal_hold")
    list_filter = ("result", "action_type", "legal_hold")
    search_fields = ("id", "tenant_id")
    date_hierarchy = "created_at"


@admin.register(DualChannelApproval)
class DualChannelApprovalAdmin(ReadOnlyAdmin):
    """Read-only: approvals move only through their state machine (FR-6)."""

    list_display = ("approval_id", "tenant_id", "status", "first_approval_at", "second_approval_at")
    list_filter = ("status",)
    search_fields = ("approval_id", "tenant_id")
