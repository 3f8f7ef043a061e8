"""/v1/mmm/ready and /health in services mode against real and unreachable services (spec 11.8, NFR-6)."""

from __future__ import annotations

import pytest

from tests.integration.helpers import child_env, closed_port, django_get, service_urls

pytestmark = pytest.mark.slow

SERVICES = service_urls()
needs_services = pytest.mark.skipif(
    SERVICES is None, reason="DATABASE_URL, REDIS_URL and CELERY_BROKER_URL not set (.ci/run sets them)"
)


def _sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ready.sqlite3'}"


@needs_services
@pytest.mark.services
def test_ready_with_all_real_services(tmp_path):
    status, body = django_get("/v1/mmm/ready", child_env(tmp_path, **SERVICES))
    assert status == 200, body
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
        "peers": {},
    }


def test_ready_503_names_the_database_when_postgresql_is_unreachable(tmp_path):
    env = child_env(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/mmm")
    status, body = django_get("/v1/mmm/ready", env)
    assert status == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("error: ")
    assert body["checks"]["cache"] == "ok"
    assert body["error"]["code"] == "NOT_READY"
    assert list(body["error"]["fields"]) == ["database"]
    assert "database" in body["error"]["message"]


def test_ready_503_names_the_cache_when_redis_is_unreachable(tmp_path):
    env = child_env(
        tmp_path, DATABASE_URL=_sqlite(tmp_path), REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"
    )
    status, body = django_get("/v1/mmm/ready", env)
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("error: ")
    assert list(body["error"]["fields"]) == ["cache"]


def test_ready_503_names_the_broker_when_rabbitmq_is_unreachable(tmp_path):
    env = child_env(
        tmp_path,
        DATABASE_URL=_sqlite(tmp_path),
        CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{closed_port()}//",
    )
    status, body = django_get("/v1/mmm/ready", env)
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")
    assert list(body["error"]["fields"]) == ["broker"]


def test_ready_does_not_leak_connection_details(tmp_path):
    env = child_env(tmp_path, DATABASE_URL=f"postgres://admin:s3cret@127.0.0.1:{closed_port()}/mmm")
    _, body = django_get("/v1/mmm/ready", env)
    assert "s3cret" not in str(body) and "admin" not in str(body)


def test_health_503_when_database_is_unreachable_but_not_for_cache(tmp_path):
    down_db = child_env(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/mmm")
    status, body = django_get("/v1/mmm/health", down_db)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["error"]["code"] == "UNHEALTHY"
    down_cache = child_env(
        tmp_path, DATABASE_URL=_sqlite(tmp_path), REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"
    )
    assert django_get("/v1/mmm/health", down_cache) == (200, {"status": "healthy"})
