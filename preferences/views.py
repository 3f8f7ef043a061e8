"""Tenant policy and actor preference reads (spec 11.4, 11.5)."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mmm_project.auth.permissions import IsTenantAdmin
from mmm_project.errors import ApplicationError, NotFound
from preferences.selectors import actor_preferences_get, tenant_policy_get
from preferences.serializers import ActorPreferencesOutputSerializer, TenantPolicyOutputSerializer


class TenantPolicyDetailApi(APIView):
    """``GET /v1/mmm/tenants/{tenant_id}/policy`` (role ``mmm_admin`` or ``tenant_admin``).

    Another tenant's id is 404 (NFR-5). With no stored policy the defaults are returned.
    """

    permission_classes = [IsTenantAdmin]

    def get(self, request: Request, tenant_id: str) -> Response:
        if tenant_id != request.user.tenant_id:
            raise NotFound("Tenant policy")
        policy = tenant_policy_get(tenant_id=tenant_id)
        return Response(TenantPolicyOutputSerializer(policy).data)


class ActorPreferencesDetailApi(APIView):
    """``GET /v1/mmm/actors/{actor_id}/preferences``: an actor reads their own; admins any (FR-14)."""

    def get(self, request: Request, actor_id: str) -> Response:
        principal = request.user
        if actor_id != principal.actor_id and not principal.is_admin:
            raise ApplicationError(
                "FORBIDDEN", "Actors may read only their own preferences.", status_code=403
            )
        prefs = actor_preferences_get(tenant_id=principal.tenant_id, actor_id=actor_id)
        return Response(ActorPreferencesOutputSerializer(prefs).data)
