"""Why am I seeing this, and less like this (issue 15): explanation and feedback APIs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.explain.feedback import action_feedback_create
from decisions.explain.serializers import (
    ActionExplanationSerializer,
    DecisionExplanationSerializer,
    FeedbackInputSerializer,
    FeedbackOutputSerializer,
)
from decisions.explain.services import action_explanation, decision_explanation
from mmm_project.auth.permissions import HasScope


class ActionExplanationApi(APIView):
    """``GET /v1/mmm/actions/{action_id}/explanation`` (scope ``mmm.read``; the actor or an admin).

    Why the action reached its actor: signal, playbook and version, conditions, gates passed,
    experiment variant, evidence handles, LLM provenance and the receipt id, in plain sentences.
    """

    permission_classes = [HasScope("mmm.read")]

    @extend_schema(responses={200: ActionExplanationSerializer}, tags=["actors"])
    def get(self, request: Request, action_id: str) -> Response:
        return Response(action_explanation(principal=request.user, action_id=action_id))


class DecisionExplanationApi(APIView):
    """``GET /v1/mmm/decisions/{decision_id}/explanation`` (scope ``mmm.read``; the actor or an
    admin): each suppressed candidate with its reason code and a sentence."""

    permission_classes = [HasScope("mmm.read")]

    @extend_schema(responses={200: DecisionExplanationSerializer}, tags=["decisions"])
    def get(self, request: Request, decision_id: str) -> Response:
        return Response(decision_explanation(principal=request.user, decision_id=decision_id))


class ActionFeedbackApi(APIView):
    """``POST /v1/mmm/actions/{action_id}/feedback`` (scope ``mmm.outcome``; the action's actor only).

    ``{"feedback": "less_like_this" | "not_relevant" | "helpful", "scope": "playbook" |
    "action_type", "duration_days": 30}``: 201 with the outcome and its receipt id.
    """

    permission_classes = [HasScope("mmm.outcome")]

    @extend_schema(
        request=FeedbackInputSerializer, responses={201: FeedbackOutputSerializer}, tags=["actors"]
    )
    def post(self, request: Request, action_id: str) -> Response:
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = action_feedback_create(
            principal=request.user, action_id=action_id, **serializer.validated_data
        )
        body = {
            "outcome_id": str(result.outcome.id),
            "action_id": str(result.outcome.action_id),
            "feedback": result.outcome.result,
            "receipt_id": result.receipt_id,
            "muted_playbook_id": result.muted_playbook_id,
            "muted_until": result.muted_until.isoformat() if result.muted_until else None,
            "opted_out_type": result.opted_out_type,
        }
        return Response(body, status=status.HTTP_201_CREATED)
