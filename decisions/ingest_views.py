"""Signal intake over HTTP (FR-1, spec 11.9): envelopes and CloudEvents; 202 once persisted."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.adapters import github
from decisions.adapters.alertmanager import AlertmanagerBodyError, alerts_to_envelopes
from decisions.adapters.cloudevents import cloudevent_to_envelope, is_cloudevent
from decisions.ingest import signal_reject, signals_ingest
from decisions.models import WebhookEndpoint, WebhookProvider
from decisions.serializers import SignalEnvelopeSerializer
from decisions.webhooks import (
    alertmanager_endpoint_for,
    endpoint_state,
    github_endpoint_for,
    github_signature_valid,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_rotate,
)
from mmm_project.auth.permissions import HasScope, IsTenantAdmin
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from mmm_project.parsers import CloudEventsBatchJSONParser, CloudEventsJSONParser, LimitedJSONParser
from mmm_project.serializers import StrictSerializer
from mmm_project.tenancy import get_for_tenant

MAX_BATCH = 100


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.ListField(child=serializers.CharField(), help_text="Signal ids stored now.")
    duplicates = serializers.ListField(child=serializers.CharField(), help_text="Already stored; not again.")


def validate_envelopes(items: list[Any], principal: Principal) -> list[dict[str, Any]]:
    """Validate every item (envelope or CloudEvent); raise naming ``[index].field`` for any problem.

    All or nothing: one bad item refuses the whole batch, so nothing is half-stored.
    """
    now = timezone.now()
    envelopes, errors, foreign = [], {}, []
    for index, item in enumerate(items):
        raw = (
            cloudevent_to_envelope(item, tenant_id=principal.tenant_id, actor_id=principal.actor_id, now=now)
            if is_cloudevent(item)
            else item
        )
        serializer = SignalEnvelopeSerializer(data=raw)
        if not serializer.is_valid():
            errors[f"[{index}]"] = serializer.errors
        elif serializer.validated_data["tenant_id"] != principal.tenant_id:
            foreign.append(f"[{index}].tenant_id")
        else:
            envelopes.append(serializer.validated_data)
    if errors:
        raise serializers.ValidationError(errors)
    if foreign:
        raise ApplicationError(
            "FORBIDDEN",
            "Signals may only be sent for the token's tenant.",
            status_code=403,
            fields={name: ["must be the token's tenant"] for name in foreign},
        )
    return envelopes


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
        envelopes = validate_envelopes(items, request.user)
        result = signals_ingest(tenant_id=request.user.tenant_id, envelopes=envelopes, channel="api")
        body = {"accepted": result.accepted, "duplicates": result.duplicates}
        return Response(body, status=status.HTTP_202_ACCEPTED)


def _public(cls):
    """Webhook receivers authenticate the sender themselves (signature or token), not by JWT."""
    cls.authentication_classes = []
    cls.permission_classes = [AllowAny]
    return cls


class WebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "ignored"])
    signal_id = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)


def _unauthorized(message: str) -> ApplicationError:
    return ApplicationError("UNAUTHENTICATED", message, status_code=401)


@_public
class GitHubWebhookApi(APIView):
    """``POST /v1/mmm/webhooks/github``: a GitHub delivery, verified by ``X-Hub-Signature-256``.

    The tenant is found from the payload's installation, owner or organization id; the
    signature is checked with that tenant's secret (constant time). Unsigned, wrongly signed or
    unknown senders get 401 and nothing is stored. Mapped events become a signal (202
    ``accepted``, or ``duplicate`` for a redelivered ``X-GitHub-Delivery``); others are 202
    ``ignored`` with the reason (``docs/event-taxonomy.md``).
    """

    @extend_schema(request=OpenApiTypes.OBJECT, responses={202: WebhookResultSerializer}, tags=["webhooks"])
    def post(self, request: Request) -> Response:
        body = request.body  # the raw bytes: the HMAC covers them exactly
        signature = request.headers.get("X-Hub-Signature-256", "")
        event = request.headers.get("X-GitHub-Event", "")
        delivery = request.headers.get("X-GitHub-Delivery", "")
        if not signature:
            raise _unauthorized("X-Hub-Signature-256 is required.")
        missing = [
            name for name, value in (("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery)) if not value
        ]
        if missing:
            raise ApplicationError(
                "VALIDATION_ERROR",
                "GitHub headers are missing.",
                fields={name: ["is required"] for name in missing},
            )
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError("The request body is not valid JSON.") from exc
        if not isinstance(payload, dict):
            raise serializers.ValidationError({"body": ["must be a JSON object"]})
        endpoint = github_endpoint_for(github.tenant_keys(payload))
        if endpoint is None or not github_signature_valid(endpoint, body, signature):
            raise _unauthorized("The signature does not match a registered webhook secret.")
        mapped = github.map_event(event, payload)
        if isinstance(mapped, github.Ignored):
            return Response({"status": "ignored", "reason": mapped.reason}, status=status.HTTP_202_ACCEPTED)
        raw = github.envelope(
            event=event,
            delivery_id=delivery,
            payload=payload,
            mapped=mapped,
            tenant_id=endpoint.tenant_id,
            received_at=timezone.now().isoformat(),
        )
        serializer = SignalEnvelopeSerializer(data=raw)
        if not serializer.is_valid():
            signal_reject(
                tenant_id=endpoint.tenant_id,
                channel="webhook:github",
                reason=f"mapped envelope invalid: {serializer.errors}",
                message=payload,
            )
            return Response(
                {"status": "ignored", "reason": "the delivery could not be mapped to a valid signal"},
                status=status.HTTP_202_ACCEPTED,
            )
        result = signals_ingest(
            tenant_id=endpoint.tenant_id, envelopes=[serializer.validated_data], channel="webhook:github"
        )
        state = "accepted" if result.accepted else "duplicate"
        return Response({"status": state, "signal_id": raw["signal_id"]}, status=status.HTTP_202_ACCEPTED)


class AlertmanagerResultSerializer(IngestResultSerializer):
    ignored = serializers.ListField(child=serializers.CharField())


@_public
class AlertmanagerWebhookApi(APIView):
    """``POST /v1/mmm/webhooks/alertmanager``: ``Authorization: Bearer <tenant webhook token>``.

    Versions 3 and 4; one signal per alert (firing and resolved), de-duplicated by fingerprint
    (or group key and labels), 202 ``{"accepted", "duplicates", "ignored"}``.
    """

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={202: AlertmanagerResultSerializer}, tags=["webhooks"]
    )
    def post(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        endpoint = alertmanager_endpoint_for(token.strip()) if scheme.lower() == "bearer" and token else None
        if endpoint is None:
            raise _unauthorized("A valid Alertmanager webhook token is required.")
        try:
            raw, ignored = alerts_to_envelopes(
                request.data, tenant_id=endpoint.tenant_id, received_at=timezone.now().isoformat()
            )
        except AlertmanagerBodyError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        envelopes = []
        for index, item in enumerate(raw):
            serializer = SignalEnvelopeSerializer(data=item)
            if serializer.is_valid():
                envelopes.append(serializer.validated_data)
            else:
                ignored.append(f"alerts[{index}] could not be mapped to a valid signal")
        result = signals_ingest(
            tenant_id=endpoint.tenant_id, envelopes=envelopes, channel="webhook:alertmanager"
        )
        return Response(
            {"accepted": result.accepted, "duplicates": result.duplicates, "ignored": ignored},
            status=status.HTTP_202_ACCEPTED,
        )


class WebhookEndpointInputSerializer(StrictSerializer):
    provider = serializers.ChoiceField(choices=WebhookProvider.values)
    name = serializers.CharField(max_length=200)
    routes = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)


class WebhookEndpointOutputSerializer(serializers.Serializer):
    endpoint_id = serializers.UUIDField()
    provider = serializers.CharField()
    name = serializers.CharField()
    active = serializers.BooleanField()
    routes = serializers.ListField(child=serializers.CharField())


class WebhookEndpointSecretSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(
        help_text="GitHub: the webhook secret; Alertmanager: the bearer token. Shown once."
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
