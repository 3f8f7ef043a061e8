"""Response shape of actor deletion requests (NFR-3)."""

from __future__ import annotations

from rest_framework import serializers

from decisions.privacy.models import DeletionStatus


class DeletionRequestSerializer(serializers.Serializer):
    deletion_request_id = serializers.UUIDField(source="id")
    tenant_id = serializers.CharField()
    status = serializers.ChoiceField(choices=DeletionStatus.values)
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Rows deleted or anonymised.")
    held = serializers.DictField(child=serializers.IntegerField(), help_text="Rows kept: on legal hold.")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
