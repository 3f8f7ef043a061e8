"""Spans leave over OTLP/HTTP (FR-15): configured only from the ``OTEL_*`` variables, received by a
local collector started here and decoded with opentelemetry-proto; off without an exporter; an
exporter that is down costs spans, never a request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from werkzeug import Request, Response

from decisions.models import Decision
from mmm_project.tracing import config
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.tracing.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
DECIDE_BODY = {"tenant_id": "tenant-a", "signal": {"source": "github", "event_type": "ci.check_run.failed"}}


def _value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class Collector:
    """An OTLP/HTTP trace receiver: ``POST /v1/traces`` with protobuf bodies."""

    def __init__(self, server) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        server.expect_request("/v1/traces", method="POST").respond_with_handler(self.handle)
        self.url = server.url_for("/").rstrip("/")

    def handle(self, request: Request) -> Response:
        self.bodies.append((request.headers.get("Content-Type", ""), request.get_data()))
        body = ExportTraceServiceResponse().SerializeToString()
        return Response(body, content_type="application/x-protobuf")

    def spans(self) -> list[tuple[dict, str, dict]]:
        """(resource attributes, span name, span attributes) of every span received."""
        received = []
        for content_type, body in self.bodies:
            assert content_type == "application/x-protobuf"
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        received.append(
                            (resource, span.name, {a.key: _value(a.value) for a in span.attributes})
                        )
        return received


@pytest.fixture
def tenant(db):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook(mirror_playbook())


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, []),
    ],
)
def test_tracing_is_on_only_when_the_variables_name_an_exporter(environ, names):
    assert config.exporter_names(environ) == names


def test_resource_names_the_service_and_the_process_kind(monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert config.resource_for("worker").attributes["service.name"] == "mmm-engine"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "mmm-eu")
    resource = config.resource_for("worker")
    assert (resource.attributes["service.name"], resource.attributes["mmm.process_kind"]) == (
        "mmm-eu",
        "worker",
    )


def test_the_decision_span_arrives_at_an_otlp_collector(
    recorder, peer_server, tenant, client_for, monkeypatch
):
    # given the OTLP/HTTP exporter the variables configure, pointed at a local collector
    collector = Collector(peer_server)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    exporters = config.span_exporters(os.environ)
    assert [type(e) for e in exporters] == [OTLPSpanExporter]
    batch = BatchSpanProcessor(exporters[0])
    recorder.targets = [batch]
    try:
        # when a decision is made and the batch is flushed
        response = client_for(tenant_id="tenant-a", actor_id="actor-1").post(
            "/v1/mmm/decide", DECIDE_BODY, format="json"
        )
        assert recorder.force_flush()
    finally:
        recorder.targets = []
        batch.shutdown()
    # then the collector decoded the decision span with its FR-15 attributes
    assert response.status_code == 200, response.content
    decisions = [attributes for _, name, attributes in collector.spans() if name == "mmm.decision"]
    assert len(decisions) == 1
    decision = Decision.objects.get()
    assert decisions[0]["decision_id"] == str(decision.id)
    assert (decisions[0]["tenant_id"], decisions[0]["actor_id"]) == ("tenant-a", "actor-1")
    assert decisions[0]["action_count"] == 1 and decisions[0]["degraded_mode"] is False
    assert decisions[0]["playbook_ids"] == [p["playbook_id"] for p in decision.playbooks_fired]


def test_a_collector_that_is_down_costs_spans_not_requests(recorder, tenant, client_for, monkeypatch):
    # given an exporter pointed at a port nothing listens on
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    batch = BatchSpanProcessor(config.span_exporters(os.environ)[0])
    recorder.targets = [batch]
    try:
        # when a decision is made and the spans are flushed
        response = client_for(tenant_id="tenant-a", actor_id="actor-1").post(
            "/v1/mmm/decide", DECIDE_BODY, format="json"
        )
        recorder.force_flush()  # the export fails, and says so only in the log
    finally:
        recorder.targets = []
        batch.shutdown()
    # then the request succeeded all the same
    assert response.status_code == 200, response.content
    assert Decision.objects.count() == 1


def _manage_shell(code: str, tmp_path: Path, **otel: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(otel, LOCAL_STATE_DIR=str(tmp_path), LOG_LEVEL="ERROR")
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SHELL_CODE = """
from opentelemetry import trace
from mmm_project import tracing
print("tracing", tracing.enabled())
with tracing.span("mmm.decision", tenant_id="t-1"):
    pass
if tracing.enabled():
    trace.get_tracer_provider().force_flush()
"""


def test_a_manage_py_command_exports_from_the_variables_alone(peer_server, tmp_path):
    # given only the standard variables naming a collector and the service
    collector = Collector(peer_server)
    done = _manage_shell(
        SHELL_CODE, tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=collector.url, OTEL_SERVICE_NAME="mmm-engine-test"
    )
    # then the command's span arrives, from the named service and the "manage" process kind
    assert done.returncode == 0, done.stderr
    assert "tracing True" in done.stdout
    received = collector.spans()
    assert [(r["service.name"], r["mmm.process_kind"], n) for r, n, _ in received] == [
        ("mmm-engine-test", "manage", "mmm.decision")
    ]


def test_without_an_exporter_a_command_traces_nothing(tmp_path):
    done = _manage_shell(SHELL_CODE, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tracing False" in done.stdout


def test_probes_are_not_traced_nor_are_statements_outside_a_trace(spans, db, api_client):
    # given tracing on; when a health probe runs its database check
    assert api_client.get("/v1/mmm/health").status_code == 200
    # then neither the request nor its SQL statement (a trace of its own otherwise) is exported
    assert spans.get_finished_spans() == ()
