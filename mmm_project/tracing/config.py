"""Tracing set-up (FR-15): the SDK, its exporters and the instrumentations, from the ``OTEL_*`` variables.

See ``mmm_project.tracing`` for what is configured and where each process kind calls ``setup``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

logger = logging.getLogger(__name__)

SERVICE_NAME = "mmm-engine"  # when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one
# Probes and scrapes every few seconds would drown the traces that matter; OTEL_PYTHON_DJANGO_EXCLUDED_URLS
# replaces this list when set.
EXCLUDED_URLS = "v1/mmm/health,v1/mmm/ready,v1/mmm/metrics"
OTLP_EXPORTERS = ("otlp", "otlp_proto_http")

_installed = False


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The span exporters the standard variables ask for; empty means tracing stays off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if named:
        return [n for n in named if n != "none"]
    if environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return ["otlp"]
    return []


def span_exporters(environ: Mapping[str, str]) -> list[Any]:
    """Build the exporters ``exporter_names`` lists; an unknown name is logged and skipped."""
    exporters: list[Any] = []
    for name in exporter_names(environ):
        if name in OTLP_EXPORTERS:
            protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol != "http/protobuf":
                logger.warning("OTLP protocol %s is not installed; sending http/protobuf", protocol)
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())  # endpoint, headers, timeout: from OTEL_EXPORTER_OTLP_*
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        else:
            logger.warning("unknown OTEL_TRACES_EXPORTER %r ignored", name)
    return exporters


def setup(kind: str) -> bool:
    """Turn tracing on for this process if the ``OTEL_*`` variables name an exporter (FR-15).

    ``kind`` (``web``, ``worker``, ``beat``, ``intake``, ``manage``) becomes the resource attribute
    ``mmm.process_kind``. Idempotent: a forked child keeps its parent's set-up (the SDK restarts
    the batch processor's thread after a fork). Returns whether tracing is on; never raises.
    """
    if _installed:
        return True
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
        from django.conf import settings

        _ = settings.DEBUG  # loading the settings reads .env into the environment (real variables win)
        exporters = span_exporters(os.environ)
        if not exporters:
            return False
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        return install(kind, [BatchSpanProcessor(exporter) for exporter in exporters])
    except Exception as exc:  # noqa: BLE001 - tracing must never stop a process from serving
        logger.warning("tracing not set up", extra={"error": f"{type(exc).__name__}: {exc}"})
        return False


def install(kind: str, processors: list[Any]) -> bool:
    """Set the process's tracer provider with ``processors`` and instrument the libraries, once.

    ``setup`` calls it with batch processors over the configured exporters; tests and the
    tracing benchmark call it with their own (an in-memory or a no-op exporter).
    """
    global _installed
    if _installed:
        return False
    from opentelemetry.sdk.trace import TracerProvider

    configured = TracerProvider().sampler  # what OTEL_TRACES_SAMPLER asks (parent-based always on)
    provider = TracerProvider(resource=resource_for(kind), sampler=_orphan_clients_dropped(configured))
    for processor in processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _instrument()
    _installed = True
    return True


def _orphan_clients_dropped(sampler: Any) -> Any:
    """``sampler``, except that a client span starting a trace (SQL, Redis or HTTP outside any
    request or task: health probes and scrapes, which are not traced, or a broker's polling
    loop) is dropped rather than exported as a trace of one statement."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class OrphanClientSpansDropped(Sampler):
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, **kw):
            parent = trace.get_current_span(parent_context).get_span_context()
            if kind == trace.SpanKind.CLIENT and not parent.is_valid:
                return SamplingResult(Decision.DROP)
            return sampler.should_sample(parent_context, trace_id, name, kind, attributes, links, **kw)

        def get_description(self) -> str:
            return f"OrphanClientSpansDropped{{{sampler.get_description()}}}"

    return OrphanClientSpansDropped()


def resource_for(kind: str) -> Any:
    """The process's resource: ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES`` (service name
    ``mmm-engine`` when they name none) plus ``mmm.process_kind``."""
    from opentelemetry.sdk.resources import Resource

    resource = Resource.create({"mmm.process_kind": kind})
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    return resource


def _instrument() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")  # install() without setup()
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    excluded = None if os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS") else EXCLUDED_URLS
    # Inserted into settings.MIDDLEWARE: must run before the WSGI handler loads its middleware.
    DjangoInstrumentor().instrument(excluded_urls=excluded)
    CeleryInstrumentor().instrument()  # publish: injects traceparent; run: continues it
    PsycopgInstrumentor().instrument()  # statements only, never their parameters
    HTTPXClientInstrumentor().instrument()  # peer calls carry traceparent
    RedisInstrumentor().instrument()  # commands with their arguments sanitised


def connect_celery(signals: Any) -> None:
    """Set tracing up in Celery's processes: each prefork child (``worker_process_init``: the batch
    exporter's thread must start after the fork), a worker whose pool does not fork (solo,
    threads: ``worker_init``), and beat (``beat_init``)."""

    def worker_process(**kwargs: object) -> None:
        setup("worker")

    def worker(sender: object = None, **kwargs: object) -> None:
        from celery.concurrency import get_implementation
        from celery.concurrency.prefork import TaskPool

        pool = get_implementation(getattr(sender, "pool_cls", None) or "prefork")
        if not (isinstance(pool, type) and issubclass(pool, TaskPool)):
            setup("worker")

    def beat(**kwargs: object) -> None:
        setup("beat")

    signals.worker_process_init.connect(worker_process, weak=False)
    signals.worker_init.connect(worker, weak=False)
    signals.beat_init.connect(beat, weak=False)
