"""Decision APIs: decide (11.1), outcomes (11.3), decisions, nudges, consent and approvals (FR-6),
summary metrics (11.7), playbook dry runs (FR-13), explicit trigger evaluation (FR-1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.selectors import current_surface_payloads, decision_get, pending_nudges, tenant_summary
from decisions.serializers import (
    DecideInputSerializer,
    DecisionEnvelopeSerializer,
    DecisionOutputSerializer,
    DryRunInputSerializer,
    DryRunOutputSerializer,
    ExecutionStatusSerializer,
    MetricsQuerySerializer,
    NudgesQuerySerializer,
    NudgesSerializer,
    OutcomeAcceptedSerializer,
    OutcomeInputSerializer,
    RejectInputSerializer,
    TenantMetricsSerializer,
    TriggerEvaluationSerializer,
)
from decisions.services.approvals import (
    action_approve,
    action_consent,
    action_execution_status,
    action_reject,
)
from decisions.services.decide import decision_create
from decisions.services.dry_run import dry_run
from decisions.services.outcomes import outcome_create
from decisions.services.triggers import trigger_evaluate
from mmm_project.auth.permissions import HasScope, IsTenantAdmin
from mmm_project.errors import ApplicationError, NotFound
from mmm_project.openapi import ErrorSerializer
from mmm_project.serializers import StrictSerializer, validated

NUDGE_MAX_AGE = timedelta(hours=24)
DAYS_30_AFTER_MIN = datetime.min.replace(tzinfo=UTC) + timedelta(days=30)


class DecideApi(APIView):
    """``POST /v1/mmm/decide`` (scope ``mmm.decide``): ``{"decision": {...}}``, 200.

    A repeated ``signal.signal_id`` answers the first decision again, with the header
    ``Idempotent-Replay: true``.
    """

    permission_classes = [HasScope("mmm.decide")]

    @extend_schema(
        request=DecideInputSerializer, responses={200: DecisionEnvelopeSerializer}, tags=["decisions"]
    )
    def post(self, request: Request) -> Response:
        data = validated(DecideInputSerializer, request.data)  # no field copies per request (NFR-1)
        result = decision_create(principal=request.user, data=data)
        headers = {"Idempotent-Replay": "true"} if result.replayed else {}
        return Response({"decision": DecisionOutputSerializer(result.decision).data}, headers=headers)


class TriggerEvaluateApi(APIView):
    """``POST /v1/mmm/triggers/evaluate`` (scope ``mmm.decide``, FR-1): the decide body (11.1);
    answers which published playbooks the signal would trigger and why. Writes nothing."""

    permission_classes = [HasScope("mmm.decide")]

    @extend_schema(
        request=DecideInputSerializer, responses={200: TriggerEvaluationSerializer}, tags=["decisions"]
    )
    def post(self, request: Request) -> Response:
        serializer = DecideInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(trigger_evaluate(principal=request.user, request=serializer.validated_data))


class DecisionDetailApi(APIView):
    """``GET /v1/mmm/decisions/{decision_id}`` (scope ``mmm.read``); 404 for other tenants."""

    permission_classes = [HasScope("mmm.read")]

    @extend_schema(responses={200: DecisionEnvelopeSerializer}, tags=["decisions"])
    def get(self, request: Request, decision_id: str) -> Response:
        decision = decision_get(tenant_id=request.user.tenant_id, decision_id=decision_id)
        return Response({"decision": DecisionOutputSerializer(decision).data})


class OutcomeCreateApi(APIView):
    """``POST /v1/mmm/decisions/{decision_id}/outcomes`` (scope ``mmm.outcome``): 202 once stored."""

    permission_classes = [HasScope("mmm.outcome")]

    @extend_schema(
        request=OutcomeInputSerializer, responses={202: OutcomeAcceptedSerializer}, tags=["decisions"]
    )
    def post(self, request: Request, decision_id: str) -> Response:
        data = validated(OutcomeInputSerializer, request.data)
        outcome = outcome_create(principal=request.user, decision_id=decision_id, data=data)
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

    @extend_schema(parameters=[NudgesQuerySerializer], responses={200: NudgesSerializer}, tags=["actors"])
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
                "payload": current_surface_payloads(action).get(surface, {}),
                "requires_consent": action.requires_consent,
                "requires_dual_channel": action.requires_dual_channel,
                "created_at": action.created_at.isoformat(),
            }
            for action in actions
        ]
        return Response({"actor_id": actor_id, "surface": surface, "nudges": nudges})


class ActionConsentApi(APIView):
    """``POST /v1/mmm/actions/{action_id}/consent`` (scope ``mmm.outcome``): the actor's consent (FR-6)."""

    permission_classes = [HasScope("mmm.outcome")]

    @extend_schema(
        request=None, responses={200: ExecutionStatusSerializer, 409: ErrorSerializer}, tags=["approvals"]
    )
    def post(self, request: Request, action_id: str) -> Response:
        action_consent(principal=request.user, action_id=action_id)
        return _execution_response(request, action_id)


class ActionApproveApi(APIView):
    """``POST /v1/mmm/actions/{action_id}/approve`` (scope ``mmm.outcome``): the designated approver."""

    permission_classes = [HasScope("mmm.outcome")]

    @extend_schema(
        request=None, responses={200: ExecutionStatusSerializer, 409: ErrorSerializer}, tags=["approvals"]
    )
    def post(self, request: Request, action_id: str) -> Response:
        action_approve(principal=request.user, action_id=action_id)
        return _execution_response(request, action_id)


class ActionRejectApi(APIView):
    """``POST /v1/mmm/actions/{action_id}/reject`` (scope ``mmm.outcome``), body ``{"reason"}``."""

    permission_classes = [HasScope("mmm.outcome")]

    class InputSerializer(StrictSerializer):
        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        request=RejectInputSerializer,
        responses={200: ExecutionStatusSerializer, 409: ErrorSerializer},
        tags=["approvals"],
    )
    def post(self, request: Request, action_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action_reject(principal=request.user, action_id=action_id, reason=serializer.validated_data["reason"])
        return _execution_response(request, action_id)


def _execution_response(request: Request, action_id: str) -> Response:
    action, state = action_execution_status(principal=request.user, action_id=action_id)
    return Response(
        {
            "action_id": str(action.id),
            "type": action.type,
            "may_execute": state.may_execute,
            "reasons": list(state.reasons),
            "requires_consent": action.requires_consent,
            "consent_recorded": state.consent_recorded,
            "requires_dual_channel": action.requires_dual_channel,
            "approval_status": state.approval_status,
        }
    )


class ActionExecutionApi(APIView):
    """``GET /v1/mmm/actions/{action_id}/execution`` (scope ``mmm.read``): may the Edge Agent/CI run it?"""

    permission_classes = [HasScope("mmm.read")]

    @extend_schema(responses={200: ExecutionStatusSerializer}, tags=["approvals"])
    def get(self, request: Request, action_id: str) -> Response:
        return _execution_response(request, action_id)


class TenantMetricsApi(APIView):
    """``GET /v1/mmm/tenants/{tenant_id}/metrics?start_date=&end_date=`` (admin role; spec 11.7).

    Aggregate counts only, never per actor (FM-MMM-02). Default period: the last 30 days.
    """

    permission_classes = [IsTenantAdmin]

    @extend_schema(
        parameters=[MetricsQuerySerializer], responses={200: TenantMetricsSerializer}, tags=["admin"]
    )
    def get(self, request: Request, tenant_id: str) -> Response:
        if tenant_id != request.user.tenant_id:
            raise NotFound("Tenant")
        filters = MetricsQuerySerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        end = filters.validated_data.get("end_date") or timezone.now()
        # 30 days before the end; from the earliest time there is for an end in year 1's first month
        start = filters.validated_data.get("start_date") or max(end, DAYS_30_AFTER_MIN) - timedelta(days=30)
        if start >= end:
            raise ApplicationError(
                "VALIDATION_ERROR", "The period is empty.", fields={"start_date": ["must be before end_date"]}
            )
        return Response(
            {
                "tenant_id": tenant_id,
                "period": {"start": start.isoformat(), "end": end.isoformat()},
                "aggregates": tenant_summary(tenant_id=tenant_id, start=start, end=end),
            }
        )


class PlaybookDryRunApi(APIView):
    """``POST /v1/mmm/playbooks/dry-run`` (admin): what a draft would have proposed. Writes nothing.

    Body: ``{"playbook": {...}, "signal": {...}, "context": {...}, "actor_id": "..."}`` or
    ``{"playbook": {...}, "signal_ids": ["..."]}`` (stored signals, replayed with the context
    their decision recorded). Answers ``{"results": [{"signal_id", "matched", "actions",
    "suppressed"}], "problems": [...]}``.
    """

    permission_classes = [IsTenantAdmin]

    @extend_schema(request=DryRunInputSerializer, responses={200: DryRunOutputSerializer}, tags=["playbooks"])
    def post(self, request: Request) -> Response:
        serializer = DryRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(dry_run(principal=request.user, **serializer.validated_data))
