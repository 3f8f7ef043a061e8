"""Signal intake over HTTP (FR-1, spec 11.9): envelopes, CloudEvents and webhooks; 202 once stored."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.intake.envelope import envelopes_validate
from decisions.intake.models import WebhookEndpoint
from decisions.intake.receivers import alertmanager_notification_ingest, github_delivery_ingest
from decisions.intake.serializers import (
    AlertmanagerResultSerializer,
    IngestResultSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointOutputSerializer,
    WebhookEndpointSecretSerializer,
    WebhookResultSerializer,
)
from decisions.intake.services import signals_ingest
from decisions.intake.webhooks import (
    endpoint_state,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_rotate,
)
from mmm_project.auth.permissions import HasScope, IsTenantAdmin
from mmm_project.openapi import ErrorSerializer
from mmm_project.parsers import CloudEventsBatchJSONParser, CloudEventsJSONParser, LimitedJSONParser
from mmm_project.tenancy import get_for_tenant

MAX_BATCH = 100


class SignalIngestApi(APIView):
    """``POST /v1/mmm/signals`` (scope ``mmm.decide``): one signal or a batch (at most 100).

    Each item is an FR-1 envelope or a CloudEvents 1.0 structured event (``specversion``
    present). 202 ``{"accepted": [...], "duplicates": [...]}`` once stored; decisions follow in
    a worker. A repeated ``signal_id`` is reported as a duplicate and not stored again.
    """

    permission_classes = [HasScope("mmm.decide")]
    parser_classes = [LimitedJSONParser, CloudEventsJSONParser, CloudEventsBatchJSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={202: IngestResultSerializer}, tags=["signals"])
    def post(self, request: Request) -> Response:
        data = request.data
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, dict) for item in items):
            raise serializers.ValidationError({"body": ["must be a signal object or a list of them"]})
        if len(items) > MAX_BATCH:
            raise serializers.ValidationError({"body": [f"at most {MAX_BATCH} signals per request"]})
        principal = request.user
        envelopes = envelopes_validate(items, tenant_id=principal.tenant_id, actor_id=principal.actor_id)
        result = signals_ingest(tenant_id=principal.tenant_id, envelopes=envelopes, channel="api")
        body = {"accepted": result.accepted, "duplicates": result.duplicates}
        return Response(body, status=status.HTTP_202_ACCEPTED)


def _public(cls):
    """Webhook receivers authenticate the sender themselves (signature or token), not by JWT."""
    cls.authentication_classes = []
    cls.permission_classes = [AllowAny]
    return cls


# The sender authenticates itself: 401 when it does not; 415 for a body that is not JSON.
WEBHOOK_ERRORS = {401: ErrorSerializer, 415: ErrorSerializer}


@_public
class GitHubWebhookApi(APIView):
    """``POST /v1/mmm/webhooks/github``: a GitHub delivery, verified by ``X-Hub-Signature-256``.

    Unsigned, wrongly signed or unknown senders get 401 and nothing is stored; a content type other
    than ``application/json`` (GitHub's form encoding included) gets 415. Mapped events become a
    signal (202 ``accepted``, or ``duplicate`` for a redelivered ``X-GitHub-Delivery``); others are
    202 ``ignored`` with the reason (``docs/event-taxonomy.md``).
    """

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={202: WebhookResultSerializer, **WEBHOOK_ERRORS},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            raise exceptions.UnsupportedMediaType(request.content_type or "none")
        result = github_delivery_ingest(
            body=request.body,  # the raw bytes: the HMAC covers them exactly
            event=request.headers.get("X-GitHub-Event", ""),
            delivery_id=request.headers.get("X-GitHub-Delivery", ""),
            signature=request.headers.get("X-Hub-Signature-256", ""),
        )
        body = {"status": result.status}
        if result.signal_id:
            body["signal_id"] = result.signal_id
        if result.reason:
            body["reason"] = result.reason
        return Response(body, status=status.HTTP_202_ACCEPTED)


@_public
class AlertmanagerWebhookApi(APIView):
    """``POST /v1/mmm/webhooks/alertmanager``: ``Authorization: Bearer <tenant webhook token>``.

    Versions 3 and 4; one signal per alert (firing and resolved), de-duplicated by fingerprint
    (or group key and labels), 202 ``{"accepted", "duplicates", "ignored"}``.
    """

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={202: AlertmanagerResultSerializer, **WEBHOOK_ERRORS},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        result = alertmanager_notification_ingest(
            authorization=request.headers.get("Authorization", ""), body=request.data
        )
        return Response(
            {"accepted": result.accepted, "duplicates": result.duplicates, "ignored": result.ignored},
            status=status.HTTP_202_ACCEPTED,
        )


class WebhookEndpointCollectionApi(APIView):
    """``GET`` / ``POST /v1/mmm/webhooks/endpoints`` (admin role): the secret is in the POST answer only."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(responses={200: WebhookEndpointOutputSerializer(many=True)}, tags=["webhooks"])
    def get(self, request: Request) -> Response:
        endpoints = WebhookEndpoint.objects.for_tenant(request.user.tenant_id).prefetch_related("routes")
        return Response([endpoint_state(e) for e in endpoints.order_by("created_at")])

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointSecretSerializer},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = webhook_endpoint_create(
            tenant_id=request.user.tenant_id, actor_id=request.user.actor_id, **serializer.validated_data
        )
        return Response({**endpoint_state(endpoint), "secret": secret}, status=status.HTTP_201_CREATED)


def _endpoint(request: Request, endpoint_id: str) -> WebhookEndpoint:
    return get_for_tenant(
        WebhookEndpoint.objects.all(),
        tenant_id=request.user.tenant_id,
        pk=endpoint_id,
        resource="Webhook endpoint",
    )


class WebhookEndpointDetailApi(APIView):
    """``DELETE /v1/mmm/webhooks/endpoints/{id}`` (admin role): deactivate (204)."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(responses={204: None}, tags=["webhooks"])
    def delete(self, request: Request, endpoint_id: str) -> Response:
        webhook_endpoint_deactivate(endpoint=_endpoint(request, endpoint_id), actor_id=request.user.actor_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateApi(APIView):
    """``POST /v1/mmm/webhooks/endpoints/{id}/rotate`` (admin role): a new secret, shown once."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(request=None, responses={200: WebhookEndpointSecretSerializer}, tags=["webhooks"])
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        secret = webhook_endpoint_rotate(endpoint=endpoint, actor_id=request.user.actor_id)
        return Response({**endpoint_state(endpoint), "secret": secret})
