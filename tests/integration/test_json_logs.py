"""Every process kind logs JSON lines on stdout (FR-15): gunicorn (its access log included), the
Celery worker and beat, and the broker intake command. Each is started as the Procfile starts it,
its whole output captured, and every line parsed as JSON."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime

import pytest

from tests.integration.helpers import service_urls
from tests.integration.processes import celery, free_port, gunicorn, manage, service_env

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.skipif(service_urls() is None, reason="CELERY_BROKER_URL etc. not set (.ci/run sets them)"),
    pytest.mark.django_db(transaction=True),
]

FR15 = {"timestamp", "level", "message", "tenant_id", "actor_id", "decision_id", "event_type", "error"}
SECRET_ACTOR = "dev-logs-7f3a"


@pytest.fixture
def env(tmp_path):
    return service_env(tmp_path)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def _assert_fr15_lines(lines: list[dict]) -> None:
    assert lines
    for line in lines:
        assert FR15 <= set(line), line
        assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None, line


def test_gunicorn_and_its_access_log_write_json_lines_without_actor_ids(env):
    # given the web process as the Procfile starts it
    port = free_port()
    web = gunicorn(env, port)
    try:
        web.wait_for(lambda line: "Booting worker" in line)
        base = f"http://127.0.0.1:{port}"
        # when a request comes with a request id, and one names an actor in its path
        status, headers = _get(f"{base}/v1/mmm/health", {"X-Request-ID": "req-logs-1"})
        assert (status, headers["X-Request-ID"]) == (200, "req-logs-1")
        status, headers = _get(f"{base}/v1/mmm/actors/{SECRET_ACTOR}/nudges?surface=ide")
        assert status == 401
        generated = headers["X-Request-ID"]
        web.wait_for(lambda line: generated in line)
    finally:
        web.stop()
    # then every line is JSON with the FR-15 fields, the access log included
    lines = web.json_lines()
    _assert_fr15_lines(lines)
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert [(a["method"], a["path"], a["status"], a["request_id"]) for a in access] == [
        ("GET", "/v1/mmm/health", 200, "req-logs-1"),
        ("GET", "/v1/mmm/actors/{actor_id}/nudges", 401, generated),
    ]
    assert SECRET_ACTOR not in web.output()
    assert any(line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines)


@pytest.mark.parametrize(
    ("start", "ready"),
    [
        (lambda env: celery(env, "worker", "-E", "--pool", "solo", "--queues", "default"), "ready."),
        (lambda env: celery(env, "beat", "--schedule", env["LOCAL_STATE_DIR"] + "/beat"), "beat: Starting"),
        (lambda env: manage(env, "consume_signals"), "consuming signals"),
    ],
    ids=["celery-worker", "celery-beat", "consume-signals"],
)
def test_worker_beat_and_intake_write_json_lines(env, start, ready):
    # given a process kind of the Procfile, started until it says it is ready
    process = start(env)
    try:
        process.wait_for(lambda line: ready in line)
    finally:
        # when it is stopped as honcho stops it
        process.stop()
    # then everything it wrote, start-up and shutdown notices included, is JSON lines
    _assert_fr15_lines(process.json_lines())
