"""Counters counted in Celery worker processes appear in the web's scrape (FR-15): one
PROMETHEUS_MULTIPROC_DIR shared by every process. A real worker process (prefork, as the Procfile
runs it) decides a stored signal and emits its receipt to ERIS; a separate process, which counted
nothing itself, answers /v1/mmm/metrics."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from receipts.models import Receipt
from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.integration.helpers import service_urls
from tests.integration.processes import ROOT, celery, service_env
from tests.peers import FakeEris

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.skipif(service_urls() is None, reason="CELERY_BROKER_URL etc. not set (.ci/run sets them)"),
    pytest.mark.django_db(transaction=True),
]

QUEUES = "default,maintenance,receipts,ingest,llm,delivery"

_SCRAPE = """
import django
django.setup()
from django.test import Client
response = Client().get("/v1/mmm/metrics")
assert response.status_code == 200, response.status_code
print(response.content.decode())
"""


def _scrape(env: dict[str, str]) -> dict[str, list]:
    """``/v1/mmm/metrics`` answered by a fresh process: {metric family: samples}."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRAPE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = "\n".join(line for line in done.stdout.splitlines() if not line.startswith("{"))  # log lines
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def _value(samples: list, name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def _wait_for_sent_decision_receipt(timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Receipt.objects.filter(kind="decision", status="sent").exists():
            return
        time.sleep(0.3)
    raise AssertionError(list(Receipt.objects.values_list("kind", "status", "last_error")))


def test_a_worker_side_decision_and_receipt_emission_appear_in_the_scrape(
    tmp_path, httpserver, settings, client_for, through_the_broker
):
    # given ERIS, a tenant with a published playbook, and a worker process as the Procfile runs it
    eris = FakeEris()
    settings.ERIS_URL = eris.install(httpserver)
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook(mirror_playbook())
    env = service_env(tmp_path, ERIS_URL=settings.ERIS_URL)
    worker = celery(env, "worker", "-E", "--pool", "prefork", "--concurrency", "1", "--queues", QUEUES)
    try:
        worker.wait_for(lambda line: "ready." in line)
        # when a producer posts a signal: stored here, decided by the worker, its receipt sent to ERIS
        producer = client_for(actor_id="ci-service", actor_type="ai_agent", scopes=["mmm.decide"])
        signal = {
            "signal_id": "metrics-1",
            "tenant_id": "tenant-a",
            "actor_id": "dev-1",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": "2026-03-04T12:00:00Z",
            "context": {"repo_id": "org/app", "branch": "main"},
        }
        assert producer.post("/v1/mmm/signals", signal, format="json").status_code == 202
        _wait_for_sent_decision_receipt()
        worker.wait_for(lambda line: '"decision made"' in line)
        while_running = _scrape(env)
    finally:
        worker.stop()
    after_exit = _scrape(env)

    # then another process's scrape shows the worker's decision and receipt emission ...
    for metrics in (while_running, after_exit):
        assert _value(metrics["mmm_decisions"], "mmm_decisions_total", tenant_id="tenant-a") == 1
        emitted = _value(
            metrics["mmm_eris_receipt_emission"],
            "mmm_eris_receipt_emission_total",
            tenant_id="tenant-a",
            result="sent",
        )
        assert emitted >= 1
        assert _value(metrics["mmm_decision_latency_seconds"], "mmm_decision_latency_seconds_count") == 1
    # ... the live processes' resource metrics, the worker's among them, and the queue gauges
    pids = {s.labels["pid"] for s in while_running["process_resident_memory_bytes"]}
    assert str(worker.process.pid) in pids
    assert str(worker.process.pid) not in {
        s.labels["pid"] for s in after_exit["process_resident_memory_bytes"]
    }
    assert "python_gc_objects_collected" in while_running
    consumers = {s.labels["queue"]: s.value for s in while_running["mmm_celery_queue_consumers"]}
    assert consumers == dict.fromkeys(QUEUES.split(","), 1.0)
    assert _value(while_running["mmm_celery_broker_up"], "mmm_celery_broker_up") == 1
    # and the decision's log line carries ids and counts, never the actor id
    decided = next(line for line in worker.json_lines() if line["message"] == "decision made")
    assert decided["tenant_id"] == "tenant-a" and decided["action_count"] == 1
    assert decided["actor_id"] not in (None, "dev-1")
    assert "dev-1" not in worker.output()
