from django.contrib import admin

from mmm_project.admin import LegalHoldReadOnlyAdmin, ReadOnlyAdmin
from receipts.models import Receipt, ReceiptKey


@admin.register(Receipt)
class ReceiptAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("receipt_id", "tenant_id", "kind", "status", "attempts", "created_at")
    list_filter = ("kind", "status", "legal_hold")
    search_fields = ("receipt_id", "tenant_id", "decision_id")
    date_hierarchy = "created_at"


@admin.register(ReceiptKey)
class ReceiptKeyAdmin(ReadOnlyAdmin):
    """Public keys that signed receipts; kept forever so old receipts verify after rotation."""

    list_display = ("kid", "created_at")
