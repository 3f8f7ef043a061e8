"""Liveness and readiness endpoints (spec 11.8, NFR-6). Public: no token needed.

``GET /v1/mmm/health``: 200 ``{"status": "healthy"}`` while the database answers, else 503.
``GET /v1/mmm/ready``: 200 ``{"status": "ready", "checks": {...}}`` when the database (with several
regions, every region's: ``database_<region>``, NFR-3), the cache
and, in services mode, the Celery broker answer; else 503 ``{"status": "not_ready", "checks":
{...}, "error": {"code": "NOT_READY", ...}}`` naming each failing component. A check reports only
the exception class, never connection strings or credentials.
"""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client import generate_latest
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from mmm_project.celery import app as celery_app
from mmm_project.clients import alerting, data_governance, eris, policy, ubi  # noqa: F401 - register clients
from mmm_project.clients.base import REGISTRY
from mmm_project.errors import error_body
from mmm_project.metrics import SCRAPE_REGISTRY
from mmm_project.openapi import ErrorSerializer
from mmm_project.residency import regions


def check_database(alias: str = "default") -> None:
    """Run ``SELECT 1`` on the database ``alias`` (the default region's). Raises on any failure."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def database_checks() -> dict[str, Callable[[], None]]:
    """``database`` (the default region), plus ``database_<region>`` for each other region (NFR-3)."""
    return {
        "database" if alias == "default" else f"database_{alias}": partial(check_database, alias)
        for alias in regions()
    }


def check_cache() -> None:
    """Write and read back a short-lived key. Raises on any failure or a wrong read."""
    key = f"ready:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value written")
    cache.delete(key)


def check_broker() -> None:
    """Open (and close) a connection to the Celery broker, one attempt, bounded timeout."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)


def _run(checks: dict[str, Callable[[], None]]) -> dict[str, str]:
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; class name only
            results[name] = f"error: {type(exc).__name__}"
        else:
            results[name] = "ok"
    return results


def _unavailable(status: str, code: str, results: dict[str, str]) -> JsonResponse | None:
    """The 503 body naming each failing component, or None when every check passed."""
    failing = {name: [result] for name, result in results.items() if result != "ok"}
    if not failing:
        return None
    body = {"status": status, "checks": results}
    body.update(error_body(code, f"Unavailable: {', '.join(failing)}.", failing))
    return JsonResponse(body, status=503)


CHECKS_HELP = (
    "Component -> 'ok' or 'error: <class>': database (the default region), database_<region> for "
    "each other region (NFR-3 data residency), cache, broker (services mode)."
)


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "ready"])
    checks = serializers.DictField(child=serializers.CharField(), required=False, help_text=CHECKS_HELP)
    peers = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="Configured peers' breaker states."
    )


class UnavailableSerializer(ErrorSerializer):
    status = serializers.ChoiceField(choices=["unhealthy", "not_ready"])
    checks = serializers.DictField(child=serializers.CharField(), help_text=CHECKS_HELP)


class _PublicApi(APIView):
    """Public: no token (spec 11.8, NFR-7)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class HealthApi(_PublicApi):
    """Liveness: the process runs and its database answers."""

    @extend_schema(responses={200: HealthSerializer, 503: UnavailableSerializer}, tags=["operations"])
    def get(self, request: Request) -> JsonResponse:
        results = _run(database_checks())
        return _unavailable("unhealthy", "UNHEALTHY", results) or JsonResponse({"status": "healthy"})


class ReadyApi(_PublicApi):
    """Readiness: database, cache and (services mode) broker all answer."""

    @extend_schema(responses={200: HealthSerializer, 503: UnavailableSerializer}, tags=["operations"])
    def get(self, request: Request) -> JsonResponse:
        checks: dict[str, Callable[[], None]] = {**database_checks(), "cache": check_cache}
        if settings.SERVICES_MODE:
            checks["broker"] = check_broker
        results = _run(checks)
        # Each configured peer's circuit breaker, for operators; an open breaker degrades
        # decisions (NFR-6) rather than making the service unready.
        peers = {name: client.state for name, client in REGISTRY.items() if client.configured}
        return _unavailable("not_ready", "NOT_READY", results) or JsonResponse(
            {"status": "ready", "checks": results, "peers": peers}
        )


def metrics_allowed(request: Request) -> bool:
    """Whether ``request`` may read the metrics: from ``METRICS_ALLOWED_NETWORKS`` (CIDRs; loopback by
    default) or with ``Authorization: Bearer <METRICS_TOKEN>``. Metrics carry tenant ids and activity
    (NFR-5): never public."""
    token = settings.METRICS_TOKEN
    if token and hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS
    )


class MetricsApi(_PublicApi):
    """Prometheus metrics in the text exposition format (django-prometheus), for scrapers from an
    allowed network or with the metrics token; 403 ``FORBIDDEN`` otherwise."""

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(response=str, description="Prometheus text format"),
            403: ErrorSerializer,
        },
        tags=["operations"],
    )
    def get(self, request: Request) -> HttpResponse:
        if not metrics_allowed(request):
            return JsonResponse(
                error_body("FORBIDDEN", "Metrics need an allowed network or the metrics token."), status=403
            )
        response = ExportToDjangoView(request)
        response.content = response.content + generate_latest(SCRAPE_REGISTRY)
        return response
