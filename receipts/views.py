"""Receipt APIs: the public key set, verification of a receipt, and the admins' receipt list."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mmm_project.auth.permissions import HasScope, IsTenantAdmin
from mmm_project.serializers import QuerySerializer
from receipts.models import ReceiptKind
from receipts.selectors import receipt_list
from receipts.serializers import JWKSSerializer, ReceiptListSerializer, VerificationSerializer
from receipts.services import receipt_document
from receipts.signing import public_jwks, verify_document


class ReceiptKeysApi(APIView):
    """``GET /v1/mmm/receipts/keys``: every receipt-signing public key as a JWKS (RFC 7517/8037). Public."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: JWKSSerializer}, tags=["receipts"])
    def get(self, request: Request) -> Response:
        return Response(public_jwks())


class ReceiptVerifyApi(APIView):
    """``POST /v1/mmm/receipts/verify`` (scope ``mmm.read``), body: a receipt as sent to ERIS.

    Answers 200 ``{"valid": bool, "receipt_id", "kid", "reason"}``; a body that is not a non-empty
    JSON object is 400.
    """

    permission_classes = [HasScope("mmm.read")]

    @extend_schema(
        request={"application/json": {"type": "object", "minProperties": 1}},
        responses={200: VerificationSerializer},
        tags=["receipts"],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict) or not request.data:
            raise serializers.ValidationError({"body": ["must be a receipt object"]})
        result = verify_document(request.data)
        return Response(
            {
                "valid": result.valid,
                "receipt_id": request.data.get("receipt_id"),
                "kid": result.kid,
                "reason": result.reason,
            }
        )


class ReceiptListApi(APIView):
    """``GET /v1/mmm/receipts?decision_id=&kind=&limit=`` (role ``tenant_admin``/``mmm_admin``).

    The tenant's receipts, newest first, each with its delivery state.
    """

    permission_classes = [IsTenantAdmin]

    class FilterSerializer(QuerySerializer):
        decision_id = serializers.UUIDField(required=False)
        kind = serializers.ChoiceField(choices=ReceiptKind.choices, required=False)
        limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)

    @extend_schema(parameters=[FilterSerializer], responses={200: ReceiptListSerializer}, tags=["receipts"])
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        receipts = receipt_list(
            tenant_id=request.user.tenant_id, decision_id=data.get("decision_id"), kind=data.get("kind")
        )[: data["limit"]]
        return Response(
            {
                "receipts": [
                    {
                        "receipt": receipt_document(r),
                        "status": r.status,
                        "attempts": r.attempts,
                        "last_error": r.last_error,
                        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                    }
                    for r in receipts
                ]
            }
        )
