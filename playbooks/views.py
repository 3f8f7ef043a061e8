"""Playbook API (spec 11.2, FR-13): list, create, read, update, publish, deprecate, dry run.

Reads need scope ``mmm.read``; writes need role ``tenant_admin`` or ``mmm_admin``. Every write
emits an ``admin_config`` receipt (``playbooks.services``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mmm_project.auth.permissions import IsTenantAdmin, ReadScopeOrAdmin
from mmm_project.openapi import ErrorSerializer
from mmm_project.serializers import QuerySerializer
from playbooks.models import Playbook, PlaybookStatus
from playbooks.selectors import playbook_get, playbook_latest_versions, playbook_list
from playbooks.serializers import (
    PlaybookChangeSerializer,
    PlaybookDocumentSerializer,
    PlaybookOutputSerializer,
    PlaybookWithProblemsSerializer,
)
from playbooks.services import (
    playbook_create,
    playbook_deprecate,
    playbook_publish,
    playbook_update,
    version_document,
)
from playbooks.spec import problems_output, validate_playbook

# The spec's PlaybookCreateRequest carries "version"; versions are assigned by the engine.
IGNORED_FIELDS = ("version",)


def _serialize(tenant_id: str, playbooks: list[Playbook]) -> list[dict[str, Any]]:
    latest = playbook_latest_versions(tenant_id=tenant_id, playbooks=playbooks)
    return PlaybookOutputSerializer(playbooks, many=True, context={"latest_versions": latest}).data


def _with_problems(tenant_id: str, playbook: Playbook) -> dict[str, Any]:
    """One playbook plus the problems that would stop its latest version from publishing."""
    body = _serialize(tenant_id, [playbook])[0]
    latest = playbook.versions.get(version=playbook.latest_version)
    _, problems = validate_playbook(version_document(playbook, latest))
    body["problems"] = problems_output(problems)
    return body


def _document(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise serializers.ValidationError({"body": ["must be a playbook object"]})
    return {key: value for key, value in data.items() if key not in IGNORED_FIELDS}


class PlaybookCollectionApi(APIView):
    """``GET /v1/mmm/playbooks?status=`` lists; ``POST /v1/mmm/playbooks`` creates a draft (201)."""

    permission_classes = [ReadScopeOrAdmin]

    class FilterSerializer(QuerySerializer):
        status = serializers.ChoiceField(choices=PlaybookStatus.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: PlaybookOutputSerializer(many=True)},
        tags=["playbooks"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tenant_id = request.user.tenant_id
        playbooks = list(
            playbook_list(tenant_id=tenant_id, status=filters.validated_data.get("status")).select_related(
                "published_version"
            )
        )
        return Response(_serialize(tenant_id, playbooks))

    @extend_schema(
        request=PlaybookDocumentSerializer,
        responses={201: PlaybookWithProblemsSerializer, 409: ErrorSerializer},
        tags=["playbooks"],
    )
    def post(self, request: Request) -> Response:
        principal = request.user
        playbook = playbook_create(
            tenant_id=principal.tenant_id, document=_document(request.data), actor_id=principal.actor_id
        )
        return Response(_with_problems(principal.tenant_id, playbook), status=status.HTTP_201_CREATED)


class PlaybookDetailApi(APIView):
    """``GET``, ``PUT`` (new version; omitted fields keep their value) and ``DELETE`` (deprecate, 204)."""

    permission_classes = [ReadScopeOrAdmin]

    @extend_schema(responses={200: PlaybookWithProblemsSerializer}, tags=["playbooks"])
    def get(self, request: Request, playbook_id: str) -> Response:
        tenant_id = request.user.tenant_id
        return Response(_with_problems(tenant_id, playbook_get(tenant_id=tenant_id, playbook_id=playbook_id)))

    @extend_schema(
        request=PlaybookChangeSerializer,
        responses={200: PlaybookWithProblemsSerializer, 409: ErrorSerializer},
        tags=["playbooks"],
    )
    def put(self, request: Request, playbook_id: str) -> Response:
        principal = request.user
        changes = _document(request.data)
        if not changes:
            # An empty body changes nothing: no new version, no receipt.
            raise serializers.ValidationError({"body": ["give at least one playbook field to change"]})
        playbook = playbook_get(tenant_id=principal.tenant_id, playbook_id=playbook_id)
        current = version_document(playbook, playbook.versions.get(version=playbook.latest_version))
        document = {**current, **changes}
        playbook = playbook_update(playbook=playbook, document=document, actor_id=principal.actor_id)
        return Response(_with_problems(principal.tenant_id, playbook))

    @extend_schema(responses={204: None}, tags=["playbooks"])
    def delete(self, request: Request, playbook_id: str) -> Response:
        principal = request.user
        playbook = playbook_get(tenant_id=principal.tenant_id, playbook_id=playbook_id)
        playbook_deprecate(playbook=playbook, actor_id=principal.actor_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlaybookPublishApi(APIView):
    """``POST /v1/mmm/playbooks/{id}/publish``: 200 published, or 400 listing every problem."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(
        request=None, responses={200: PlaybookOutputSerializer, 409: ErrorSerializer}, tags=["playbooks"]
    )
    def post(self, request: Request, playbook_id: str) -> Response:
        principal = request.user
        playbook = playbook_get(tenant_id=principal.tenant_id, playbook_id=playbook_id)
        playbook = playbook_publish(playbook=playbook, actor_id=principal.actor_id)
        return Response(_serialize(principal.tenant_id, [playbook])[0])
