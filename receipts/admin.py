from django.contrib import admin

from mmm_project.admin import LegalHoldReadOnlyAdmin
from receipts.models import Receipt


@admin.register(Receipt)
class ReceiptAdmin(LegalHoldReadOnlyAdmin):
    list_display = ("receipt_id", "tenant_id", "kind", "status", "attempts", "created_at")
    list_filter = ("kind", "status", "legal_hold")
    search_fields = ("receipt_id", "tenant_id", "decision_id")
    date_hierarchy = "created_at"
