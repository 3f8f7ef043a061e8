"""Tenant policy (spec 11.5) and actor preferences (spec 11.4, FR-14) APIs."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mmm_project.auth.permissions import IsTenantAdmin
from mmm_project.auth.principal import Principal
from mmm_project.clients.policy import snapshot_invalidate
from mmm_project.errors import ApplicationError, NotFound
from preferences.selectors import actor_preferences_get, tenant_policy_get
from preferences.serializers import (
    ActorPreferencesInputSerializer,
    ActorPreferencesOutputSerializer,
    SnoozeInputSerializer,
    TenantPolicyInputSerializer,
    TenantPolicyOutputSerializer,
)
from preferences.services import actor_preferences_update, actor_snooze, tenant_policy_update


class TenantPolicyDetailApi(APIView):
    """``GET`` / ``PUT /v1/mmm/tenants/{tenant_id}/policy`` (role ``mmm_admin`` or ``tenant_admin``).

    Another tenant's id is 404 (NFR-5). With no stored policy GET returns the defaults; PUT
    changes the fields given (quotas, quiet hours with time zone, enabled types and surfaces,
    restrictions, safety-critical flag, retention, priorities, ``llm`` budgets and system prompt
    (FR-5, FR-13)) and emits an admin receipt.
    """

    permission_classes = [IsTenantAdmin]

    def _check_tenant(self, request: Request, tenant_id: str) -> None:
        if tenant_id != request.user.tenant_id:
            raise NotFound("Tenant policy")

    @extend_schema(responses={200: TenantPolicyOutputSerializer}, tags=["admin"])
    def get(self, request: Request, tenant_id: str) -> Response:
        self._check_tenant(request, tenant_id)
        return Response(TenantPolicyOutputSerializer(tenant_policy_get(tenant_id=tenant_id)).data)

    @extend_schema(
        request=TenantPolicyInputSerializer, responses={200: TenantPolicyOutputSerializer}, tags=["admin"]
    )
    def put(self, request: Request, tenant_id: str) -> Response:
        self._check_tenant(request, tenant_id)
        serializer = TenantPolicyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = tenant_policy_update(
            tenant_id=tenant_id, changes=serializer.to_changes(), actor_id=request.user.actor_id
        )
        return Response(TenantPolicyOutputSerializer(policy).data)


def _own_or_admin(principal: Principal, actor_id: str) -> None:
    if actor_id != principal.actor_id and not principal.is_admin:
        raise ApplicationError(
            "FORBIDDEN", "Actors may read and change only their own preferences.", status_code=403
        )


def _preferences(principal: Principal, actor_id: str) -> Response:
    prefs = actor_preferences_get(tenant_id=principal.tenant_id, actor_id=actor_id)
    return Response(ActorPreferencesOutputSerializer(prefs).data)


class ActorPreferencesDetailApi(APIView):
    """``GET`` / ``PUT /v1/mmm/actors/{actor_id}/preferences``: an actor their own; admins any (FR-14)."""

    @extend_schema(responses={200: ActorPreferencesOutputSerializer}, tags=["actors"])
    def get(self, request: Request, actor_id: str) -> Response:
        _own_or_admin(request.user, actor_id)
        return _preferences(request.user, actor_id)

    @extend_schema(
        request=ActorPreferencesInputSerializer,
        responses={200: ActorPreferencesOutputSerializer},
        tags=["actors"],
    )
    def put(self, request: Request, actor_id: str) -> Response:
        principal = request.user
        _own_or_admin(principal, actor_id)
        serializer = ActorPreferencesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor_preferences_update(
            tenant_id=principal.tenant_id,
            actor_id=actor_id,
            changes=serializer.validated_data,
            changed_by=principal.actor_id,
        )
        return _preferences(principal, actor_id)


class ActorSnoozeApi(APIView):
    """``POST .../preferences/snooze`` snoozes (``duration_hours`` or ``until``); ``DELETE`` cancels."""

    @extend_schema(
        request=SnoozeInputSerializer, responses={200: ActorPreferencesOutputSerializer}, tags=["actors"]
    )
    def post(self, request: Request, actor_id: str) -> Response:
        principal = request.user
        _own_or_admin(principal, actor_id)
        serializer = SnoozeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        until = data.get("until") or timezone.now() + timedelta(hours=data["duration_hours"])
        try:
            actor_snooze(
                tenant_id=principal.tenant_id, actor_id=actor_id, until=until, changed_by=principal.actor_id
            )
        except ValueError as exc:
            raise ApplicationError(
                "VALIDATION_ERROR", "The snooze is invalid.", fields={"until": [str(exc)]}
            ) from exc
        return _preferences(principal, actor_id)

    @extend_schema(responses={200: ActorPreferencesOutputSerializer}, tags=["actors"])
    def delete(self, request: Request, actor_id: str) -> Response:
        principal = request.user
        _own_or_admin(principal, actor_id)
        actor_snooze(
            tenant_id=principal.tenant_id, actor_id=actor_id, until=None, changed_by=principal.actor_id
        )
        return _preferences(principal, actor_id)


class TenantPolicyInvalidateApi(APIView):
    """``POST /v1/mmm/tenants/{tenant_id}/policy/invalidate`` (admin role): push invalidation.

    The Policy service (or an admin) calls it when a policy changes; the next decision fetches a
    new snapshot instead of using the cached one (spec 12.7). 204.
    """

    permission_classes = [IsTenantAdmin]

    @extend_schema(request=None, responses={204: None}, tags=["admin"])
    def post(self, request: Request, tenant_id: str) -> Response:
        if tenant_id != request.user.tenant_id:
            raise NotFound("Tenant policy")
        snapshot_invalidate(tenant_id=tenant_id)
        return Response(status=204)
