"""Signal intake over HTTP (FR-1, spec 11.9): envelopes and CloudEvents; 202 once persisted."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.adapters.cloudevents import cloudevent_to_envelope, is_cloudevent
from decisions.ingest import signals_ingest
from decisions.serializers import SignalEnvelopeSerializer
from mmm_project.auth.permissions import HasScope
from mmm_project.auth.principal import Principal
from mmm_project.errors import ApplicationError
from mmm_project.parsers import CloudEventsBatchJSONParser, CloudEventsJSONParser, LimitedJSONParser

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
