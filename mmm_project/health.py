"""Liveness and readiness endpoints (spec 11.8, NFR-6). Public: no token needed.

``GET /v1/mmm/health``: 200 ``{"status": "healthy"}`` while the database answers, else 503.
``GET /v1/mmm/ready``: 200 ``{"status": "ready", "checks": {...}}`` when the database, the cache
and, in services mode, the Celery broker answer; else 503 ``{"status": "not_ready", "checks":
{...}, "error": {"code": "NOT_READY", ...}}`` naming each failing component. A check reports only
the exception class, never connection strings or credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from mmm_project.celery import app as celery_app
from mmm_project.errors import error_body


def check_database() -> None:
    """Run ``SELECT 1`` on the default database. Raises on any failure."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


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


def _failing(results: dict[str, str]) -> list[str]:
    return [name for name, result in results.items() if result != "ok"]


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process runs and its database answers."""
    results = _run({"database": check_database})
    if failing := _failing(results):
        body = {"status": "unhealthy", "checks": results}
        body.update(
            error_body("UNHEALTHY", f"Unavailable: {', '.join(failing)}.", {n: [results[n]] for n in failing})
        )
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "healthy"})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and (services mode) broker all answer."""
    checks: dict[str, Callable[[], None]] = {"database": check_database, "cache": check_cache}
    if settings.SERVICES_MODE:
        checks["broker"] = check_broker
    results = _run(checks)
    if failing := _failing(results):
        body = {"status": "not_ready", "checks": results}
        body.update(
            error_body("NOT_READY", f"Unavailable: {', '.join(failing)}.", {n: [results[n]] for n in failing})
        )
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ready", "checks": results})
