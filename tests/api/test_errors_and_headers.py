"""One error body for every 4xx/5xx, and the NFR-7 security headers on every response."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000",
}


def _assert_error_body(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    return body["error"]


def test_unknown_api_path_is_json_404():
    _assert_error_body(APIClient().get("/v1/mmm/no-such-thing"), 404, "NOT_FOUND")


def test_wrong_method_is_405(client_for):
    admin = client_for(roles=["tenant_admin"])
    _assert_error_body(admin.delete("/v1/mmm/playbooks"), 405, "METHOD_NOT_ALLOWED")


def test_health_rejects_post_with_405():
    response = APIClient().post("/v1/mmm/health")
    assert response.status_code == 405


def test_invalid_query_parameter_names_the_field(client_for):
    error = _assert_error_body(client_for().get("/v1/mmm/playbooks?status=archived"), 400, "VALIDATION_ERROR")
    assert list(error["fields"]) == ["status"]


def test_unexpected_exception_is_500_error_body_not_a_page(client_for, monkeypatch):
    # given a selector that fails unexpectedly
    def boom(**kwargs):
        raise RuntimeError("database exploded with secret=abc")

    monkeypatch.setattr("playbooks.views.playbook_list", boom)
    # when / then: the error body, without the exception's text
    error = _assert_error_body(client_for().get("/v1/mmm/playbooks"), 500, "INTERNAL_ERROR")
    assert "secret" not in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "authenticated"),
    [
        ("get", "/v1/mmm/health", False),
        ("get", "/v1/mmm/ready", False),
        ("get", "/v1/mmm/metrics", False),
        ("get", "/v1/mmm/playbooks", True),
        ("get", "/v1/mmm/playbooks", False),  # 401
        ("get", "/v1/mmm/decisions/00000000-0000-0000-0000-000000000000", True),  # 404
        ("get", "/v1/mmm/nowhere", False),  # 404 outside any view
        ("post", "/v1/mmm/health", False),  # 405
        ("get", "/admin/login/", False),
    ],
)
def test_security_headers_on_every_response(client_for, method, path, authenticated):
    client = client_for() if authenticated else APIClient()
    response = getattr(client, method)(path)
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value, (path, header)


def test_metrics_are_prometheus_text():
    APIClient().get("/v1/mmm/health")
    response = APIClient().get("/v1/mmm/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE django_http_requests_total_by_view_transport_method_total counter" in text
    assert 'view="health"' in text


def test_health_and_ready_without_token():
    assert APIClient().get("/v1/mmm/health").json() == {"status": "healthy"}
    ready = APIClient().get("/v1/mmm/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["cache"] == "ok"


def test_metrics_need_an_allowed_network_or_the_token(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    # from elsewhere without the token: refused, no tenant ids leak
    refused = APIClient().get("/v1/mmm/metrics", **remote)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert b"tenant_id" not in refused.content
    assert APIClient().get("/v1/mmm/metrics", HTTP_AUTHORIZATION="Bearer wrong", **remote).status_code == 403
    # with the token, or from an allowed network
    assert (
        APIClient().get("/v1/mmm/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", **remote).status_code
        == 200
    )
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert APIClient().get("/v1/mmm/metrics", **remote).status_code == 200


def test_caller_chosen_labels_are_bounded(client_for):
    from mmm_project.metrics import SIGNALS_RECEIVED

    client = client_for(actor_id="dev-1")
    before = len(SIGNALS_RECEIVED.collect()[0].samples)
    for index in range(20):
        signal = {"signal_id": f"card-{index}", "source": f"src-{index}", "event_type": f"custom.type{index}"}
        assert (
            client.post(
                "/v1/mmm/decide", {"tenant_id": "tenant-a", "signal": signal}, format="json"
            ).status_code
            == 200
        )
    labels = {(s.labels["source"], s.labels["event_type"]) for s in SIGNALS_RECEIVED.collect()[0].samples}
    assert ("other", "other") in labels
    assert not any(source.startswith("src-") or event.startswith("custom.") for source, event in labels)
    assert len(SIGNALS_RECEIVED.collect()[0].samples) <= before + 2  # _total and _created of one series
