from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from mmm_project.admin import ActionsOnlyAdmin, ReadOnlyAdmin, admin_actor_id
from receipts.legal_hold import legal_hold_set
from receipts.models import ActorKey, LogNode, Receipt, ReceiptKey, ReceiptLog, SignedTreeHead


def _hold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, *, hold: bool) -> None:
    changed = legal_hold_set(queryset=queryset, hold=hold, actor_id=admin_actor_id(request))
    verb = "placed on" if hold else "released from"
    modeladmin.message_user(
        request, f"{sum(changed.values())} {verb} legal hold ({len(changed)} tenant(s), one receipt each)."
    )


@admin.action(description="Place selected on legal hold (exempt from retention)", permissions=["change"])
def place_legal_hold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _hold(modeladmin, request, queryset, hold=True)


@admin.action(description="Release legal hold on selected", permissions=["change"])
def release_legal_hold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _hold(modeladmin, request, queryset, hold=False)


class LegalHoldReadOnlyAdmin(ActionsOnlyAdmin):
    """Read-only rows whose only write is placing or releasing a legal hold (NFR-3), through
    ``legal_hold_set``: one admin receipt per tenant touched."""

    actions = [place_legal_hold, release_legal_hold]


@admin.register(Receipt)
class ReceiptAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("receipt_id", "tenant_id", "kind", "decision", "status", "attempts", "created_at")
    list_filter = ("kind", "status", "legal_hold")
    search_fields = ("receipt_id", "tenant_id", "decision_id")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = ("decision",)

    @admin.display(description="decision")
    def decision(self, receipt: Receipt) -> str:
        """A link to the decision the receipt attests (receipts name it by id, no foreign key)."""
        if receipt.decision_id is None:
            return "-"
        url = reverse("admin:decisions_decision_change", args=[receipt.decision_id])
        return format_html('<a href="{}">{}</a>', url, receipt.decision_id)


@admin.register(ReceiptKey)
class ReceiptKeyAdmin(ReadOnlyAdmin):
    """Public keys that signed receipts; kept forever so old receipts verify after rotation."""

    list_display = ("kid", "created_at")


@admin.register(ActorKey)
class ActorKeyAdmin(ReadOnlyAdmin):
    """Which actors have a pseudonym key (the key itself is never shown); deleted with the actor."""

    list_display = ("tenant_id", "actor_id", "created_at")
    search_fields = ("tenant_id", "actor_id")
    fields = ("tenant_id", "actor_id", "created_at")


@admin.register(ReceiptLog)
class ReceiptLogAdmin(ReadOnlyAdmin):
    """Each tenant's receipt log head (size, root); written only by the appending task."""

    list_display = ("tenant_id", "size", "updated_at")
    search_fields = ("tenant_id",)
    fields = ("tenant_id", "size", "updated_at")


@admin.register(LogNode)
class LogNodeAdmin(ReadOnlyAdmin):
    """Stored subtrees of the receipt logs (level 0: leaf hashes); never changed."""

    list_display = ("tenant_id", "level", "index")
    list_filter = ("level",)
    search_fields = ("tenant_id",)
    fields = ("tenant_id", "level", "index")


@admin.register(SignedTreeHead)
class SignedTreeHeadAdmin(ReadOnlyAdmin):
    """Signed tree heads of the receipt logs and their delivery to ERIS."""

    list_display = ("tenant_id", "tree_size", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("tenant_id",)
    ordering = ("-created_at",)
