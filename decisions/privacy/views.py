"""Actor deletion API (spec NFR-3 actor-level deletion, PR-MMM-02)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.privacy.models import ActorDeletionRequest
from decisions.privacy.serializers import DeletionRequestSerializer
from decisions.privacy.services import actor_deletion_request
from mmm_project.auth.permissions import IsTenantAdmin
from mmm_project.openapi import ErrorSerializer
from mmm_project.serializers import NON_BLANK_PATTERN
from mmm_project.tenancy import get_for_tenant


class ActorDeletionApi(APIView):
    """``POST /v1/mmm/actors/{actor_id}/deletion`` (admin role): 202 with the request, processed by a
    worker in batches; ``GET /v1/mmm/deletion-requests/{id}`` follows it."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("actor_id", str, OpenApiParameter.PATH, required=True, pattern=NON_BLANK_PATTERN)
        ],
        responses={202: DeletionRequestSerializer, 400: ErrorSerializer},
        tags=["privacy"],
    )
    def post(self, request: Request, actor_id: str) -> Response:
        created = actor_deletion_request(
            tenant_id=request.user.tenant_id, actor_id=actor_id, requested_via="api"
        )
        created.refresh_from_db()  # the embedded default processed it already
        return Response(DeletionRequestSerializer(created).data, status=status.HTTP_202_ACCEPTED)


class DeletionRequestDetailApi(APIView):
    """``GET /v1/mmm/deletion-requests/{id}`` (admin role): status, counts and rows held."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(responses={200: DeletionRequestSerializer, 404: ErrorSerializer}, tags=["privacy"])
    def get(self, request: Request, request_id: str) -> Response:
        found = get_for_tenant(
            ActorDeletionRequest.objects.all(),
            tenant_id=request.user.tenant_id,
            pk=request_id,
            resource="Deletion request",
        )
        return Response(DeletionRequestSerializer(found).data)
