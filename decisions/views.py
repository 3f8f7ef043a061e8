"""Decision read API. ``GET /v1/mmm/decisions/{decision_id}`` (scope ``mmm.read``)."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.selectors import decision_get
from decisions.serializers import DecisionOutputSerializer
from mmm_project.auth.permissions import HasScope


class DecisionDetailApi(APIView):
    """Return ``{"decision": {...}}`` for one decision of the caller's tenant; 404 otherwise."""

    permission_classes = [HasScope("mmm.read")]

    def get(self, request: Request, decision_id: str) -> Response:
        decision = decision_get(tenant_id=request.user.tenant_id, decision_id=decision_id)
        return Response({"decision": DecisionOutputSerializer(decision).data})
