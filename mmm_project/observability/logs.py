"""JSON log lines on stdout for every process kind (FR-15): the ``LOGGING`` setting, gunicorn's
``logconfig_dict``, and the formatters both use.

Each line carries ``timestamp`` (ISO 8601, UTC offset), ``level``, ``logger``, ``message`` and the
FR-15 fields ``tenant_id``, ``actor_id``, ``decision_id``, ``event_type``, ``error``,
``degraded_mode`` (null when the line has none), ``request_id`` in a request, ``task`` and
``task_id`` in a Celery task, ``trace_id`` and ``span_id`` when an OpenTelemetry span is recording.

Nothing that identifies people (NFR-3): an ``actor_id`` is written as a keyed pseudonym
(HMAC-SHA256 under ``SECRET_KEY``, 16 hex digits: the same actor gives the same value in every
line of one deployment), and actor ids in request paths are replaced by ``{actor_id}``. Django's
request loggers keep only server errors, a 503 (a component or peer down) at WARNING.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

try:  # tracing is optional: trace ids are added only when the SDK is installed and a span records
    from opentelemetry import trace as otel_trace
except ImportError:  # pragma: no cover - depends on the installed packages
    otel_trace = None

# The current request's id (``X-Request-ID``), set by ``RequestIdMiddleware``.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

FR15_FIELDS = ("tenant_id", "actor_id", "decision_id", "event_type", "error", "degraded_mode")
ACTOR_IN_PATH = re.compile(r"(/v1/mmm/actors/)[^/?#\s'\"]+")
# ``extra`` values that are objects, not data (Django's request loggers pass the request).
DROPPED_EXTRAS = ("request", "server_time")


def redact_path(path: str) -> str:
    """``path`` with the actor id of ``/v1/mmm/actors/<id>/...`` replaced by ``{actor_id}``."""
    return ACTOR_IN_PATH.sub(r"\1{actor_id}", path)


def actor_ref(actor_id: str) -> str | None:
    """The log pseudonym of ``actor_id``: 16 hex digits of HMAC-SHA256 under ``SECRET_KEY``
    (None before settings are loaded)."""
    try:
        from django.conf import settings

        key = settings.SECRET_KEY.encode()
    except Exception:  # noqa: BLE001 - settings not configured (gunicorn's master): no pseudonym
        return None
    return hmac.new(key, actor_id.encode(), hashlib.sha256).hexdigest()[:16]


def _trace_ids() -> tuple[str, str] | None:
    if otel_trace is None:
        return None
    context = otel_trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _current_task() -> Any:
    state = sys.modules.get("celery._state")  # only processes that loaded Celery run tasks
    task = state.get_current_task() if state else None
    return task if task is not None and getattr(task.request, "id", None) else None


class EngineJsonFormatter(OrjsonFormatter):
    """One JSON object per record with the fields in the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(message)s")
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in DROPPED_EXTRAS:
            log_data.pop(name, None)
        log_data["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = redact_path(str(log_data.get("message", "")))
        for name in FR15_FIELDS:
            log_data.setdefault(name, None)
        if log_data["actor_id"] is not None:
            log_data["actor_id"] = actor_ref(str(log_data["actor_id"]))
        if record.exc_info and record.exc_info[1] is not None and log_data["error"] is None:
            log_data["error"] = type(record.exc_info[1]).__name__
        request_id = REQUEST_ID.get()
        if request_id and "request_id" not in log_data:
            log_data["request_id"] = request_id
        task = _current_task()
        if task is not None:
            log_data.setdefault("task", task.name)
            log_data.setdefault("task_id", task.request.id)
        ids = _trace_ids()
        if ids is not None:
            log_data.setdefault("trace_id", ids[0])
            log_data.setdefault("span_id", ids[1])


class AccessJsonFormatter(EngineJsonFormatter):
    """gunicorn's access log as JSON: method, path (actor ids replaced, no query string), status,
    response bytes, duration and the request id the response carried. gunicorn passes its atoms
    (``h``, ``m``, ``U``, ``s``...) as the record's arguments."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        atoms = record.args if isinstance(record.args, Mapping) else {}
        if not atoms:
            return
        log_data["message"] = "request"
        log_data["method"] = atoms.get("m")
        log_data["path"] = redact_path(str(atoms.get("U", "")))
        log_data["status"] = int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s")
        log_data["bytes"] = atoms.get("B")
        log_data["duration_ms"] = round(int(atoms.get("D", 0)) / 1000, 3)
        request_id = atoms["{x-request-id}o"]
        log_data["request_id"] = None if request_id == "-" else request_id


class UnavailableIsExpected(logging.Filter):
    """On ``django.request``: a 503 is a documented answer (a component or a peer down, NFR-6; a
    bug answers 500), logged at WARNING rather than one ERROR line per request all through an
    outage; dropped when the root logger does not log warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 503:
            return True
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return logging.getLogger().isEnabledFor(logging.WARNING)


def _stdout_handler(formatter: str) -> dict[str, Any]:
    return {"class": "logging.StreamHandler", "formatter": formatter, "stream": "ext://sys.stdout"}


def logging_config(level: str) -> dict[str, Any]:
    """``dictConfig`` for every process kind: one JSON handler on stdout, on the root logger at
    ``level``; Django's own handlers (plain text on stderr while ``DEBUG``) are removed so their
    records reach the root as JSON."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": EngineJsonFormatter}},
        "filters": {"unavailable_is_expected": {"()": UnavailableIsExpected}},
        "handlers": {"console": _stdout_handler("json")},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.request": {
                "handlers": [],
                "level": "ERROR",
                "propagate": True,
                "filters": ["unavailable_is_expected"],
            },
            "django.server": {"handlers": [], "level": "ERROR", "propagate": True},
            "py.warnings": {"handlers": [], "propagate": True},
        },
    }


def gunicorn_logging_config(level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error log through the root JSON handler, its access log
    through ``AccessJsonFormatter``, both on stdout."""
    config = logging_config(level)
    config["formatters"]["access"] = {"()": AccessJsonFormatter}
    config["handlers"]["access"] = _stdout_handler("access")
    config["loggers"]["gunicorn.error"] = {"handlers": [], "level": level, "propagate": True}
    config["loggers"]["gunicorn.access"] = {"handlers": ["access"], "level": "INFO", "propagate": False}
    return config
