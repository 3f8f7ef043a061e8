"""Response shapes of the receipt endpoints (for the OpenAPI document)."""

from rest_framework import serializers


class JWKSSerializer(serializers.Serializer):
    keys = serializers.ListField(child=serializers.DictField(), help_text="OKP/Ed25519 keys (RFC 8037).")


class VerificationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    receipt_id = serializers.CharField(allow_null=True)
    kid = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ReceiptEntrySerializer(serializers.Serializer):
    receipt = serializers.DictField(help_text="The signed receipt as sent to ERIS.")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)


class ReceiptListSerializer(serializers.Serializer):
    receipts = ReceiptEntrySerializer(many=True)
