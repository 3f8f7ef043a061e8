"""Shared Django admin pieces: a read-only base for immutable models and legal-hold actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Admin for immutable rows (decisions, actions, signals, playbook versions, receipts).

    Superusers can browse and search; nobody adds, edits or deletes here. Retention and actor
    deletion are the only ways such rows change.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Place selected on legal hold (exempt from retention)")
def place_legal_hold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    count = queryset.update(legal_hold=True)
    modeladmin.message_user(request, f"{count} placed on legal hold.")


@admin.action(description="Release legal hold on selected")
def release_legal_hold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    count = queryset.update(legal_hold=False)
    modeladmin.message_user(request, f"{count} released from legal hold.")


class LegalHoldReadOnlyAdmin(ReadOnlyAdmin):
    """Read-only admin whose only write is placing or releasing a legal hold (NFR-3)."""

    actions = [place_legal_hold, release_legal_hold]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Bulk actions need the change permission; the change form itself stays read-only
        # because every field is listed in readonly_fields.
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]
