"""One error body for every 4xx/5xx response: ``{"error": {"code", "message", "fields"}}``.

``code`` is a stable upper-case identifier (``VALIDATION_ERROR``, ``TOKEN_EXPIRED``,
``POLICY_UNAVAILABLE``...), ``message`` a human sentence with no payload content, ``fields`` maps
each offending request field to its problems (empty when no field is at fault).
"""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django_redis.exceptions import ConnectionInterrupted
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error with a stable code, turned into the error body by ``exception_handler``.

    Args:
        code: stable identifier, e.g. ``"NOT_FOUND"``, ``"POLICY_UNAVAILABLE"``.
        message: human-readable sentence; must not echo payload content.
        status_code: HTTP status to answer with (default 400).
        fields: per-field problems, ``{"signal.ts": ["not an ISO 8601 timestamp"]}``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.fields = fields or {}


class NotFound(ApplicationError):
    """The resource does not exist for this tenant (another tenant's ids are 404 too, NFR-5)."""

    def __init__(self, resource: str) -> None:
        super().__init__("NOT_FOUND", f"{resource} not found.", status_code=status.HTTP_404_NOT_FOUND)


def request_too_large() -> ApplicationError:
    """400 ``REQUEST_TOO_LARGE`` naming the ``body`` field (nothing of it is parsed or stored)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return ApplicationError(
        "REQUEST_TOO_LARGE",
        f"The request body is larger than {limit} bytes.",
        fields={"body": [f"must be at most {limit} bytes"]},
    )


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the error envelope ``{"error": {"code", "message", "fields"}}``."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


# DRF exception class -> stable code. Order matters: subclasses before their bases.
_DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "UNAUTHENTICATED"),
    (exceptions.AuthenticationFailed, "INVALID_TOKEN"),
    (exceptions.PermissionDenied, "FORBIDDEN"),
    (exceptions.NotFound, "NOT_FOUND"),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE"),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (exceptions.ParseError, "MALFORMED_REQUEST"),
    (exceptions.Throttled, "THROTTLED"),
    (exceptions.ValidationError, "VALIDATION_ERROR"),
]


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested validation detail into ``{"a.b": ["msg", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # DRF reports list items as {index: errors}
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix:
                name = prefix
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        messages = [str(item) for item in detail if not isinstance(item, dict | list)]
        if messages:
            out.setdefault(prefix or "non_field_errors", []).extend(messages)
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                out.update(_flatten_fields(item, f"{prefix}[{index}]"))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


# Infrastructure failures by the component they name (the keys of /v1/mmm/ready's checks).
INFRASTRUCTURE = (
    ((OperationalError, InterfaceError), "database"),
    ((redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionInterrupted), "cache"),
    ((kombu.exceptions.OperationalError,), "broker"),
)


def unavailable_component(exc: BaseException) -> str | None:
    """``"database"``, ``"cache"`` or ``"broker"`` when ``exc`` says that component is unreachable."""
    for classes, component in INFRASTRUCTURE:
        if isinstance(exc, classes):
            return component
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler: every exception becomes the error body, unknown ones a logged 500."""
    if isinstance(exc, RequestDataTooBig):
        exc = request_too_large()
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "ERROR")
        code = getattr(exc, "mmm_code", code)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            message = "The request is invalid; see fields."
            fields = _flatten_fields(exc.detail)
        else:
            message = str(exc.detail)
            fields = {}
        return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)

    component = unavailable_component(exc)
    if component is not None:
        # The database, cache or broker is down: the same answer /v1/mmm/ready gives, never a 500.
        logger.warning("%s unavailable", component, extra={"error": type(exc).__name__})
        return Response(
            error_body("NOT_READY", f"Unavailable: {component}.", {component: ["unavailable"]}),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    # Never a bare 500 page: log the traceback (no request body) and answer the error body.
    view = context.get("view")
    logger.exception("unhandled error in %s", type(view).__name__ if view else "view")
    return Response(
        error_body("INTERNAL_ERROR", "An internal error occurred."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _json_error(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django-level 400 (e.g. a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` outside DRF)."""
    return _json_error("BAD_REQUEST", "The request could not be processed.", 400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django-level 403 (e.g. CSRF failure on a non-API path)."""
    return _json_error("FORBIDDEN", "Forbidden.", 403)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django-level 404 for paths no route matches."""
    return _json_error("NOT_FOUND", "No such endpoint.", 404)


def handler500(request: HttpRequest) -> JsonResponse:
    """Django-level 500 for errors raised outside DRF views."""
    return _json_error("INTERNAL_ERROR", "An internal error occurred.", 500)
