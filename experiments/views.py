"""Experiments API (spec 11.6): list, create, read (with per-variant results), update, activate,
deactivate. Role ``tenant_admin`` or ``mmm_admin``; every write emits an admin receipt."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from experiments.bandit_selectors import bandit_results
from experiments.models import ExperimentStatus, ExperimentType
from experiments.selectors import experiment_get, experiment_list, experiment_results
from experiments.serializers import (
    ExperimentInputSerializer,
    ExperimentOutputSerializer,
    ExperimentUpdateSerializer,
    ExperimentWithResultsSerializer,
)
from experiments.services import (
    experiment_activate,
    experiment_create,
    experiment_deactivate,
    experiment_update,
)
from mmm_project.auth.permissions import IsTenantAdmin
from mmm_project.errors import NotFound
from mmm_project.openapi import ErrorSerializer
from mmm_project.serializers import NON_BLANK_PATTERN, QuerySerializer


class ExperimentCollectionApi(APIView):
    """``GET /v1/mmm/experiments?tenant_id=&status=`` and ``POST /v1/mmm/experiments`` (201)."""

    permission_classes = [IsTenantAdmin]

    class FilterSerializer(QuerySerializer):
        tenant_id = serializers.CharField(required=False)
        status = serializers.ChoiceField(choices=ExperimentStatus.values, required=False)

    @extend_schema(
        parameters=[
            FilterSerializer,
            OpenApiParameter("tenant_id", str, required=False, pattern=NON_BLANK_PATTERN),
        ],
        responses={200: ExperimentOutputSerializer(many=True)},
        tags=["experiments"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tenant_id = request.user.tenant_id
        if filters.validated_data.get("tenant_id", tenant_id) != tenant_id:
            raise NotFound("Tenant")
        experiments = experiment_list(tenant_id=tenant_id, status=filters.validated_data.get("status"))
        return Response(ExperimentOutputSerializer(experiments, many=True).data)

    @extend_schema(
        request=ExperimentInputSerializer,
        responses={201: ExperimentOutputSerializer, 409: ErrorSerializer},
        tags=["experiments"],
    )
    def post(self, request: Request) -> Response:
        serializer = ExperimentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = experiment_create(
            tenant_id=request.user.tenant_id, data=serializer.validated_data, actor_id=request.user.actor_id
        )
        return Response(ExperimentOutputSerializer(experiment).data, status=status.HTTP_201_CREATED)


class ExperimentDetailApi(APIView):
    """``GET`` (with ``results`` per variant) and ``PUT`` (not while active) of one experiment."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(responses={200: ExperimentWithResultsSerializer}, tags=["experiments"])
    def get(self, request: Request, experiment_id: str) -> Response:
        experiment = experiment_get(tenant_id=request.user.tenant_id, experiment_id=experiment_id)
        body = dict(ExperimentOutputSerializer(experiment).data)
        results = experiment_results(experiment=experiment)
        if experiment.type == ExperimentType.BANDIT:  # FR-9: the posteriors the bandit samples
            pulls = {variant: int(entry["decisions"]) for variant, entry in results.items()}
            for variant, posterior in bandit_results(experiment=experiment, pulls=pulls).items():
                results.setdefault(variant, {})["posterior"] = posterior
        body["results"] = results
        return Response(body)

    @extend_schema(
        request=ExperimentUpdateSerializer,
        responses={200: ExperimentOutputSerializer, 409: ErrorSerializer},
        tags=["experiments"],
    )
    def put(self, request: Request, experiment_id: str) -> Response:
        experiment = experiment_get(tenant_id=request.user.tenant_id, experiment_id=experiment_id)
        serializer = ExperimentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = experiment_update(
            experiment=experiment, data=serializer.validated_data, actor_id=request.user.actor_id
        )
        return Response(ExperimentOutputSerializer(experiment).data)


class ExperimentActivateApi(APIView):
    """``POST /v1/mmm/experiments/{id}/activate`` (status ``active``)."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(
        request=None, responses={200: ExperimentOutputSerializer, 409: ErrorSerializer}, tags=["experiments"]
    )
    def post(self, request: Request, experiment_id: str) -> Response:
        experiment = experiment_get(tenant_id=request.user.tenant_id, experiment_id=experiment_id)
        experiment = experiment_activate(experiment=experiment, actor_id=request.user.actor_id)
        return Response(ExperimentOutputSerializer(experiment).data)


class ExperimentDeactivateApi(APIView):
    """``POST /v1/mmm/experiments/{id}/deactivate`` (status ``inactive``)."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(request=None, responses={200: ExperimentOutputSerializer}, tags=["experiments"])
    def post(self, request: Request, experiment_id: str) -> Response:
        experiment = experiment_get(tenant_id=request.user.tenant_id, experiment_id=experiment_id)
        experiment = experiment_deactivate(experiment=experiment, actor_id=request.user.actor_id)
        return Response(ExperimentOutputSerializer(experiment).data)
