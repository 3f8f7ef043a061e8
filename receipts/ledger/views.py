"""Receipt ledger APIs (role ``tenant_admin``/``mmm_admin``; another tenant's log is 404):

- ``GET /v1/mmm/receipts/log/{tenant_id}/head``: the latest signed tree head;
- ``GET .../proof/inclusion?receipt_id=&tree_size=``: RFC 9162 inclusion proof of a receipt;
- ``GET .../proof/consistency?first=&second=``: RFC 9162 consistency proof between two sizes.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mmm_project.auth.permissions import IsTenantAdmin
from mmm_project.errors import NotFound
from mmm_project.serializers import QuerySerializer
from receipts.ledger.selectors import consistency_proof, inclusion_proof, tree_head_latest
from receipts.ledger.serializers import (
    ConsistencyProofSerializer,
    InclusionProofSerializer,
    TreeHeadSerializer,
)
from receipts.ledger.services import tree_head_document

MAX_SIZE = 2**62


def _own_log(request: Request, tenant_id: str) -> None:
    if tenant_id != request.user.tenant_id:
        raise NotFound("Receipt log")


class ReceiptLogHeadApi(APIView):
    """The tenant's latest signed tree head: ``{kind, receipt_id, tenant_id, tree_size, root_hash,
    timestamp_utc, log_format, signature: {algorithm, kid, value}}``; 404 while the log is empty."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(responses={200: TreeHeadSerializer}, tags=["receipts"])
    def get(self, request: Request, tenant_id: str) -> Response:
        _own_log(request, tenant_id)
        return Response(tree_head_document(tree_head_latest(tenant_id=tenant_id)))


class ReceiptLogInclusionProofApi(APIView):
    """Inclusion proof of ``receipt_id`` in the tree of ``tree_size`` (default: the latest head).

    409 ``RECEIPT_NOT_IN_LOG`` while the receipt waits to be appended (seconds).
    """

    permission_classes = [IsTenantAdmin]

    class FilterSerializer(QuerySerializer):
        receipt_id = serializers.UUIDField()
        tree_size = serializers.IntegerField(min_value=1, max_value=MAX_SIZE, required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: InclusionProofSerializer}, tags=["receipts"]
    )
    def get(self, request: Request, tenant_id: str) -> Response:
        _own_log(request, tenant_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return Response(
            inclusion_proof(
                tenant_id=tenant_id, receipt_id=data["receipt_id"], tree_size=data.get("tree_size")
            )
        )


class ReceiptLogConsistencyProofApi(APIView):
    """Consistency proof from the tree of ``first`` leaves to the one of ``second`` (default: the
    latest head), both at most the log's size."""

    permission_classes = [IsTenantAdmin]

    class FilterSerializer(QuerySerializer):
        first = serializers.IntegerField(min_value=1, max_value=MAX_SIZE)
        second = serializers.IntegerField(min_value=1, max_value=MAX_SIZE, required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: ConsistencyProofSerializer}, tags=["receipts"]
    )
    def get(self, request: Request, tenant_id: str) -> Response:
        _own_log(request, tenant_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return Response(
            consistency_proof(tenant_id=tenant_id, first=data["first"], second=data.get("second"))
        )
