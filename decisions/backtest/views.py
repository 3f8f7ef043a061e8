"""Playbook backtest APIs (issue 15): start one, read its progress and report."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.backtest.serializers import BacktestInputSerializer, BacktestStateSerializer
from decisions.backtest.services import backtest_get, backtest_start
from mmm_project.auth.permissions import IsTenantAdmin
from playbooks.selectors import playbook_get


class PlaybookBacktestApi(APIView):
    """``POST /v1/mmm/playbooks/{playbook_id}/backtest`` (admin role): 202 with the backtest's state.

    Replays the tenant's stored signals of the last ``days`` through the engine in simulation with
    this version; read the report at ``GET /v1/mmm/backtests/{backtest_id}`` (kept a day).
    """

    permission_classes = [IsTenantAdmin]

    @extend_schema(
        request=BacktestInputSerializer, responses={202: BacktestStateSerializer}, tags=["playbooks"]
    )
    def post(self, request: Request, playbook_id: str) -> Response:
        playbook = playbook_get(tenant_id=request.user.tenant_id, playbook_id=playbook_id)
        serializer = BacktestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = backtest_start(principal=request.user, playbook=playbook, **serializer.validated_data)
        return Response(state, status=status.HTTP_202_ACCEPTED)


class BacktestDetailApi(APIView):
    """``GET /v1/mmm/backtests/{backtest_id}`` (admin role): status, progress and, once done, the report."""

    permission_classes = [IsTenantAdmin]

    @extend_schema(responses={200: BacktestStateSerializer}, tags=["playbooks"])
    def get(self, request: Request, backtest_id: str) -> Response:
        return Response(backtest_get(principal=request.user, backtest_id=backtest_id))
