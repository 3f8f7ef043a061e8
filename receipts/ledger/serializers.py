"""Response shapes of the receipt ledger endpoints (for the OpenAPI document)."""

from rest_framework import serializers

HEX = "Lowercase hex of a 32-byte SHA-256 hash."


class HeadSignatureSerializer(serializers.Serializer):
    algorithm = serializers.CharField(help_text="Ed25519")
    kid = serializers.CharField(help_text="Key id in GET /v1/mmm/receipts/keys.")
    value = serializers.CharField(help_text="base64url Ed25519 signature over the RFC 8785 form of the rest.")


class TreeHeadSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="tree_head")
    receipt_id = serializers.UUIDField(help_text="The head's id (ERIS idempotency key).")
    tenant_id = serializers.CharField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text=HEX)
    timestamp_utc = serializers.CharField()
    log_format = serializers.CharField()
    signature = HeadSignatureSerializer()


class InclusionProofSerializer(serializers.Serializer):
    receipt_id = serializers.UUIDField()
    leaf_index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField(
        help_text="SHA-256(0x00 || RFC 8785 form of the signed receipt body), hex."
    )
    audit_path = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 9162 inclusion path, hex."
    )
    tree_head = TreeHeadSerializer(
        allow_null=True, help_text="The signed head of tree_size, if one was signed."
    )


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    consistency_path = serializers.ListField(child=serializers.CharField(), help_text="RFC 9162 proof, hex.")
    first_tree_head = TreeHeadSerializer(allow_null=True)
    second_tree_head = TreeHeadSerializer(allow_null=True)
