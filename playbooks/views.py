"""Playbook read API (spec 11.2): list and detail, scope ``mmm.read``."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mmm_project.auth.permissions import HasScope
from playbooks.models import PlaybookStatus
from playbooks.selectors import playbook_get, playbook_latest_versions, playbook_list
from playbooks.serializers import PlaybookOutputSerializer


def _serialize(tenant_id: str, playbooks: list) -> list:
    latest = playbook_latest_versions(tenant_id=tenant_id, playbooks=playbooks)
    return PlaybookOutputSerializer(playbooks, many=True, context={"latest_versions": latest}).data


class PlaybookListApi(APIView):
    """``GET /v1/mmm/playbooks?status=draft|published|deprecated``: the tenant's playbooks."""

    permission_classes = [HasScope("mmm.read")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PlaybookStatus.choices, required=False)

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


class PlaybookDetailApi(APIView):
    """``GET /v1/mmm/playbooks/{playbook_id}``: one playbook of the caller's tenant; 404 otherwise."""

    permission_classes = [HasScope("mmm.read")]

    def get(self, request: Request, playbook_id: str) -> Response:
        tenant_id = request.user.tenant_id
        playbook = playbook_get(tenant_id=tenant_id, playbook_id=playbook_id)
        return Response(_serialize(tenant_id, [playbook])[0])
