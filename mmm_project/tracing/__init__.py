"""Distributed tracing (FR-15) with OpenTelemetry, configured only from the standard ``OTEL_*`` variables.

Tracing is off unless an exporter is named: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, or ``OTEL_TRACES_EXPORTER`` naming ``otlp`` or
``console``; ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set. Everything else is the
SDK's own reading of the standard variables: ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``
(service name ``mmm-engine`` when neither names one), ``OTEL_TRACES_SAMPLER`` and its argument,
``OTEL_EXPORTER_OTLP_HEADERS``/``TIMEOUT``/``COMPRESSION``, ``OTEL_BSP_*``. Spans leave through
OTLP over HTTP (``http/protobuf``), the one protocol installed.

``setup(kind)`` (``config``) runs once per process: web (``mmm_project.wsgi``/``asgi`` and
gunicorn's ``post_fork``), Celery worker and beat (``connect_celery``), the intake consumer and
other ``manage.py`` commands. It instruments Django, Celery, psycopg, httpx and redis, so the W3C
Trace Context (``traceparent``) travels from a request to the Celery tasks it enqueues and to every
peer HTTP call. Exporting happens on a background thread: an exporter that is down costs spans,
never a request.

The decision flow's own spans come from ``span``: ``mmm.decision`` with the FR-15 attributes, and
one child per step. They carry ids, counts and flags, never payloads, titles or bodies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode

from mmm_project.tracing import config
from mmm_project.tracing.config import connect_celery, install, setup

__all__ = ("connect_celery", "consumed", "enabled", "install", "set_attributes", "setup", "span")

_tracer = trace.get_tracer("mmm_engine")


def enabled() -> bool:
    """Whether this process records spans (``setup`` or ``install`` ran)."""
    return config._installed


@contextmanager
def _span(name: str, attributes: dict[str, Any] | None, kind: SpanKind) -> Iterator[trace.Span]:
    with _tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except Exception as exc:
            # The class only: an exception's message may quote data that must not leave (FR-15).
            current.set_attribute("error.type", type(exc).__name__)
            current.set_status(StatusCode.ERROR, type(exc).__name__)
            raise


def span(name: str, **attributes: Any):
    """A context manager for one decision-flow span ``name`` (``mmm.decision``, ``mmm.context``...).

    Attributes are ids, counts and flags only. Yields the span (set more attributes on it), or
    None when tracing is off, at the cost of a ``nullcontext``.
    """
    if not config._installed:
        return nullcontext()
    return _span(name, attributes or None, SpanKind.INTERNAL)


def set_attributes(current: trace.Span | None, **attributes: Any) -> None:
    """Set attributes on a span from ``span`` (None when tracing is off: nothing to do)."""
    if current is not None:
        current.set_attributes({k: v for k, v in attributes.items() if v is not None})


@contextmanager
def consumed(name: str, headers: Mapping[str, Any] | None, **attributes: Any) -> Iterator[None]:
    """Continue the trace of a broker message (W3C ``traceparent`` in its headers, when present)
    in a consumer span ``name``; what runs inside (storing the signal, enqueueing its decision)
    joins that trace. Without tracing, or without headers, a plain block."""
    if not config._installed:
        yield
        return
    carrier = {str(k).lower(): v for k, v in (headers or {}).items() if isinstance(v, str)}
    token = otel_context.attach(propagate.extract(carrier))
    try:
        with _span(name, attributes or None, SpanKind.CONSUMER):
            yield
    finally:
        otel_context.detach(token)
