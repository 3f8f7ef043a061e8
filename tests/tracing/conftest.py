"""Tracing fixtures (FR-15): the process's tracer provider with a recorder the tests switch on.

The provider is installed once per test process (OpenTelemetry allows one); its recorder passes
spans on only while a test holds the ``spans`` fixture, so the rest of the suite records nothing.
Servers these tests start listen on ports 18400-18499.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connections
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pytest_httpserver import HTTPServer

from mmm_project import tracing

PORTS = range(18400, 18500)


class Recorder(SpanProcessor):
    """Hands finished spans to ``targets`` (none outside a tracing test)."""

    def __init__(self) -> None:
        self.targets: list[SpanProcessor] = []

    def on_start(self, span, parent_context=None) -> None:
        for target in self.targets:
            target.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for target in self.targets:
            target.on_end(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(target.force_flush(timeout_millis) for target in self.targets)


_recorder = Recorder()


@pytest.fixture(scope="session")
def recorder() -> Recorder:
    if not tracing.enabled():
        assert tracing.install("test", [_recorder]), "another tracer provider was set in this process"
        # A process sets tracing up before it connects; the suite connected long before.
        for connection in connections.all(initialized_only=True):
            if connection.vendor == "postgresql" and connection.connection is not None:
                PsycopgInstrumentor().instrument_connection(connection.connection)
    return _recorder


@pytest.fixture
def spans(recorder) -> Iterator[InMemorySpanExporter]:
    """The spans finished during the test, in an in-memory exporter. The test starts from an empty
    context: a span context left current by an earlier test (an eager Celery task that raised, so
    the instrumentation's post-run never detached) would make the request span a child, not a root."""
    memory = InMemorySpanExporter()
    recorder.targets = [SimpleSpanProcessor(memory)]
    token = otel_context.attach(otel_context.Context())
    try:
        yield memory
    finally:
        otel_context.detach(token)
        recorder.targets = []


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18400-18499")


@pytest.fixture
def peer_server() -> Iterator[HTTPServer]:
    """A local HTTP server (pytest-httpserver) on a port of this suite's range."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def by_name(memory: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    """Finished spans by name (the last of each name)."""
    return {span.name: span for span in memory.get_finished_spans()}


def parent_of(span: ReadableSpan, finished: list[ReadableSpan]) -> ReadableSpan | None:
    parents = [s for s in finished if span.parent and s.context.span_id == span.parent.span_id]
    return parents[0] if parents else None
