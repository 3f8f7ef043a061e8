"""Decision APIs: decide (11.1), outcomes (11.3), decision detail, and the IDE's nudge pull."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.selectors import decision_get, pending_nudges
from decisions.serializers import (
    DecideInputSerializer,
    DecisionOutputSerializer,
    NudgesQuerySerializer,
    OutcomeInputSerializer,
)
from decisions.services import decision_create, outcome_create
from mmm_project.auth.permissions import HasScope
from mmm_project.errors import ApplicationError

NUDGE_MAX_AGE = timedelta(hours=24)


class DecideApi(APIView):
    """``POST /v1/mmm/decide`` (scope ``mmm.decide``): ``{"decision": {...}}``, 200.

    A repeated ``signal.signal_id`` answers the first decision again, with the header
    ``Idempotent-Replay: true``.
    """

    permission_classes = [HasScope("mmm.decide")]

    def post(self, request: Request) -> Response:
        serializer = DecideInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = decision_create(principal=request.user, request=serializer.validated_data)
        headers = {"Idempotent-Replay": "true"} if result.replayed else {}
        return Response({"decision": DecisionOutputSerializer(result.decision).data}, headers=headers)


class DecisionDetailApi(APIView):
    """``GET /v1/mmm/decisions/{decision_id}`` (scope ``mmm.read``); 404 for other tenants."""

    permission_classes = [HasScope("mmm.read")]

    def get(self, request: Request, decision_id: str) -> Response:
        decision = decision_get(tenant_id=request.user.tenant_id, decision_id=decision_id)
        return Response({"decision": DecisionOutputSerializer(decision).data})


class OutcomeCreateApi(APIView):
    """``POST /v1/mmm/decisions/{decision_id}/outcomes`` (scope ``mmm.outcome``): 202 once stored."""

    permission_classes = [HasScope("mmm.outcome")]

    def post(self, request: Request, decision_id: str) -> Response:
        serializer = OutcomeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = outcome_create(
            principal=request.user, decision_id=decision_id, request=serializer.validated_data
        )
        body = {
            "outcome_id": str(outcome.id),
            "decision_id": str(outcome.decision_id),
            "action_id": str(outcome.action_id),
            "result": outcome.result,
            "status": "accepted",
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ActorNudgesApi(APIView):
    """``GET /v1/mmm/actors/{actor_id}/nudges?surface=ide&limit=20`` (scope ``mmm.read``).

    Actions of the last 24 hours routed to the surface with no outcome yet, newest first, each
    with that surface's payload. Actors read their own; admins any actor of their tenant.
    """

    permission_classes = [HasScope("mmm.read")]

    def get(self, request: Request, actor_id: str) -> Response:
        principal = request.user
        if actor_id != principal.actor_id and not principal.is_admin:
            raise ApplicationError("FORBIDDEN", "Actors may read only their own nudges.", status_code=403)
        query = NudgesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        surface = query.validated_data["surface"]
        actions = pending_nudges(
            tenant_id=principal.tenant_id,
            actor_id=actor_id,
            surface=surface,
            since=timezone.now() - NUDGE_MAX_AGE,
            limit=query.validated_data["limit"],
        )
        nudges = [
            {
                "action_id": str(action.id),
                "decision_id": str(action.decision_id),
                "type": action.type,
                "payload": action.surface_payloads.get(surface, {}),
                "requires_consent": action.requires_consent,
                "requires_dual_channel": action.requires_dual_channel,
                "created_at": action.created_at.isoformat(),
            }
            for action in actions
        ]
        return Response({"actor_id": actor_id, "surface": surface, "nudges": nudges})
