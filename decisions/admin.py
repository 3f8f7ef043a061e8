from uuid import UUID

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from decisions.intake.webhooks import webhook_endpoint_deactivate
from decisions.models import (
    Action,
    ActionRevision,
    ActorDeletionRequest,
    Decision,
    Delivery,
    DualChannelApproval,
    LLMUsage,
    Outcome,
    RejectedSignal,
    Signal,
    WebhookEndpoint,
    WebhookRoute,
)
from mmm_project.admin import ActionsOnlyAdmin, ReadOnlyAdmin, admin_actor_id, apply_to_each, json_table
from playbooks.models import Playbook
from receipts.admin import LegalHoldReadOnlyAdmin


@admin.register(Signal)
class SignalAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("signal_id", "tenant_id", "source", "event_type", "severity", "ts", "legal_hold")
    list_filter = ("source", "severity", "legal_hold")
    search_fields = ("tenant_id", "signal_id", "event_type")
    ordering = ("-received_at",)
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
    """Newest first; the context and the suppressed actions as tables (FR-11: why an action was
    dropped is visible here, never to the actor)."""

    list_display = (
        "created_at",
        "tenant_id",
        "actor_id",
        "actor_type",
        "playbooks",
        "action_count",
        "suppressed_count",
        "degraded_mode",
        "legal_hold",
    )
    list_filter = ("actor_type", "degraded_mode", "policy_stale", "latency_warning", "legal_hold")
    search_fields = ("=id", "tenant_id", "=actor_id", "=signal__signal_id")
    search_help_text = "Decision id, tenant, actor id or signal id (exact ids)."
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    list_select_related = ("signal",)
    inlines = [ActionInline]
    exclude = ("context", "suppressed_actions")
    readonly_fields = ("signal_id", "suppressed_table", "context_table")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(actions_count=Count("actions"))

    @admin.display(description="actions", ordering="actions_count")
    def action_count(self, decision: Decision) -> int:
        return decision.actions_count

    @admin.display(description="suppressed")
    def suppressed_count(self, decision: Decision) -> int:
        return len(decision.suppressed_actions or [])

    @admin.display(description="playbook")
    def playbooks(self, decision: Decision) -> str:
        fired = {str(p["playbook_id"]): p.get("playbook_version") for p in decision.playbooks_fired or []}
        names = dict(Playbook.objects.filter(pk__in=list(fired)).values_list("pk", "name"))
        return ", ".join(f"{names.get(UUID(pk), pk)} v{version}" for pk, version in fired.items()) or "-"

    @admin.display(description="signal id")
    def signal_id(self, decision: Decision) -> str:
        return decision.signal.signal_id if decision.signal_id else "-"

    @admin.display(description="suppressed actions")
    def suppressed_table(self, decision: Decision) -> str:
        return json_table(decision.suppressed_actions)

    @admin.display(description="context")
    def context_table(self, decision: Decision) -> str:
        return json_table(decision.context)


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant_id", "type", "requires_consent", "requires_dual_channel", "created_at")
    list_filter = ("type", "requires_consent", "requires_dual_channel")
    search_fields = ("id", "tenant_id", "decision__id")
    ordering = ("-created_at",)


@admin.register(Outcome)
class OutcomeAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("id", "tenant_id", "action_type", "result", "created_at", "legal_hold")
    list_filter = ("result", "action_type", "legal_hold")
    search_fields = ("id", "tenant_id")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"


@admin.register(DualChannelApproval)
class DualChannelApprovalAdmin(ReadOnlyAdmin):
    """Read-only: approvals move only through their state machine (FR-6)."""

    list_display = ("approval_id", "tenant_id", "status", "first_approval_at", "second_approval_at")
    list_filter = ("status",)
    search_fields = ("approval_id", "tenant_id")


@admin.register(RejectedSignal)
class RejectedSignalAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "tenant_id", "channel", "reason")
    list_filter = ("channel",)
    search_fields = ("tenant_id", "reason")
    ordering = ("-received_at",)
    date_hierarchy = "received_at"


class WebhookRouteInline(admin.TabularInline):
    model = WebhookRoute
    fields = ("key",)
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Deactivate selected (their secret or token stops working)", permissions=["change"])
def deactivate_webhook_endpoints(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    actor_id = admin_actor_id(request)
    apply_to_each(
        modeladmin,
        request,
        queryset.filter(active=True),
        lambda endpoint: webhook_endpoint_deactivate(endpoint=endpoint, actor_id=actor_id),
        "deactivated",
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ActionsOnlyAdmin):
    """Read-only, as the API has no update: create, rotate and retire endpoints through
    ``/v1/mmm/webhooks/endpoints`` (a new secret is shown once, never here). Deactivating calls the
    API's service (``DELETE``): receipt and audit line included."""

    list_display = ("name", "tenant_id", "provider", "active", "updated_at")
    list_filter = ("provider", "active")
    search_fields = ("name", "tenant_id")
    fields = ("tenant_id", "provider", "name", "active", "created_at", "updated_at")
    inlines = [WebhookRouteInline]
    actions = [deactivate_webhook_endpoints]


@admin.register(WebhookRoute)
class WebhookRouteAdmin(ReadOnlyAdmin):
    list_display = ("key", "tenant_id", "endpoint")
    search_fields = ("key", "tenant_id")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("action", "surface", "status", "attempts", "delivered_at", "tenant_id")
    list_filter = ("surface", "status")
    search_fields = ("tenant_id", "action__id")
    ordering = ("-created_at",)


@admin.register(ActionRevision)
class ActionRevisionAdmin(ReadOnlyAdmin):
    list_display = ("action", "revision", "safety_status", "tenant_id", "created_at")
    list_filter = ("safety_status",)
    search_fields = ("tenant_id", "action__id")
    ordering = ("-created_at",)


@admin.register(LLMUsage)
class LLMUsageAdmin(ReadOnlyAdmin):
    list_display = ("tenant_id", "day", "tokens", "cost", "requests")
    search_fields = ("tenant_id",)
    date_hierarchy = "day"


@admin.register(ActorDeletionRequest)
class ActorDeletionRequestAdmin(ReadOnlyAdmin):
    """Actor deletions (NFR-3): status, counts and rows kept on legal hold; made through the API,
    the Data Governance topic or ``manage.py delete_actor``."""

    list_display = ("id", "tenant_id", "status", "requested_via", "created_at", "completed_at")
    list_filter = ("status", "requested_via")
    search_fields = ("id", "tenant_id")
    date_hierarchy = "created_at"
