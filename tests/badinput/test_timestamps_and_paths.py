"""Signal timestamps (zone required, bounded skew into the future), unknown API paths for every
method, and the GitHub webhook's content type."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from decisions.intake.webhooks import github_sign, webhook_endpoint_create
from decisions.models import Signal
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

DECIDE, SIGNALS = "/v1/mmm/decide", "/v1/mmm/signals"


def _signal(ts: str) -> dict:
    return {"signal_id": "s-1", "source": "github", "event_type": "ci.check_run.failed", "ts": ts}


def _envelope(ts: str) -> dict:
    return {**_signal(ts), "tenant_id": "tenant-a", "actor_id": "actor-1"}


def _iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


REFUSED = {
    "no zone": ("2026-03-04T12:00:00", "time zone"),
    "year 9999": ("9999-12-31T23:59:59Z", "in the future"),
    "year 9999 west of UTC": ("9999-12-31T23:59:59-05:00", ""),
    "ten minutes ahead": (None, "in the future"),
    "not a time": ("yesterday", ""),
}


def _ts(case: str) -> str:
    ts, _ = REFUSED[case]
    return ts if ts is not None else _iso(timedelta(minutes=10))


@pytest.mark.parametrize("case", REFUSED)
def test_decide_refuses_a_bad_ts_naming_it(client_for, case):
    response = client_for().post(
        DECIDE, {"tenant_id": "tenant-a", "signal": _signal(_ts(case))}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert REFUSED[case][1] in " ".join(error["fields"]["signal.ts"])
    assert not Signal.objects.exists()


@pytest.mark.parametrize("case", REFUSED)
def test_signals_refuse_a_bad_ts_naming_it(client_for, case):
    body = json.dumps([_envelope(_iso(timedelta(0))) | {"signal_id": "s-0"}, _envelope(_ts(case))])
    response = after_commit(client_for().post, SIGNALS, data=body, content_type="application/json")
    assert response.status_code == 400
    assert REFUSED[case][1] in " ".join(response.json()["error"]["fields"]["[1].ts"])
    assert not Signal.objects.exists()


@pytest.mark.parametrize(
    "ts", [_iso(timedelta(minutes=4)), "2026-03-04T12:00:00+02:00", "2026-03-04T12:00:00.123456Z"]
)
def test_timestamps_with_a_zone_and_within_the_skew_pass(client_for, ts):
    response = client_for().post(DECIDE, {"tenant_id": "tenant-a", "signal": _signal(ts)}, format="json")
    assert response.status_code == 200, response.content
    assert Signal.objects.get().ts.utcoffset() == timedelta(0)


@override_settings(SIGNAL_TS_MAX_FUTURE_SECONDS=3600)
def test_the_future_skew_is_a_setting(client_for):
    ts = _iso(timedelta(minutes=30))
    response = client_for().post(DECIDE, {"tenant_id": "tenant-a", "signal": _signal(ts)}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_unknown_api_paths_answer_the_json_error_body_for_every_method(method):
    # a client enforcing CSRF checks, as a browser-less caller meets them in production
    client = Client(enforce_csrf_checks=True)
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    response = getattr(client, method)("/v1/mmm/no-such-thing", **body)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/cloudevents+json"]
)
def test_github_webhook_requires_a_json_content_type(content_type):
    # given a correctly signed delivery sent with another content type
    _, secret = webhook_endpoint_create(
        tenant_id="acme", provider="github", name="gh", routes=["installation:1"], actor_id="lead"
    )
    body = json.dumps({"installation": {"id": 1}, "action": "completed"}).encode()
    response = Client().post(
        "/v1/mmm/webhooks/github",
        data=body,
        content_type=content_type,
        HTTP_X_GITHUB_EVENT="check_run",
        HTTP_X_GITHUB_DELIVERY="d-1",
        HTTP_X_HUB_SIGNATURE_256=github_sign(secret, body),
    )
    # then it is refused with the error body, and nothing is stored
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert not Signal.objects.exists()


def test_github_webhook_takes_json_with_a_charset():
    _, secret = webhook_endpoint_create(
        tenant_id="acme", provider="github", name="gh", routes=["installation:1"], actor_id="lead"
    )
    body = json.dumps({"installation": {"id": 1}, "action": "created"}).encode()
    response = Client().post(
        "/v1/mmm/webhooks/github",
        data=body,
        content_type="application/json; charset=utf-8",
        HTTP_X_GITHUB_EVENT="check_run",
        HTTP_X_GITHUB_DELIVERY="d-1",
        HTTP_X_HUB_SIGNATURE_256=github_sign(secret, body),
    )
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
