"""X-Request-ID on every response and in the log lines; the JSON line's FR-15 fields, with actor
ids pseudonymised and removed from paths."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

import pytest
from rest_framework.test import APIClient

from mmm_project.observability.logs import REQUEST_ID, EngineJsonFormatter

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("req-42.a:b", "req-42.a:b"), (None, None), ("has spaces and <html>", None), ("x" * 129, None)],
)
def test_a_sane_request_id_is_echoed_and_any_other_replaced(sent, echoed):
    headers = {"HTTP_X_REQUEST_ID": sent} if sent is not None else {}
    response = APIClient().get("/v1/mmm/health", **headers)
    if echoed:
        assert response["X-Request-ID"] == echoed
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def _line(**extra) -> dict:
    record = logging.LogRecord(
        "mmm.test", logging.INFO, __file__, 1, "GET /v1/mmm/actors/dev-9/nudges", None, None
    )
    record.__dict__.update(extra)
    return json.loads(EngineJsonFormatter().format(record))


def test_a_line_has_the_fr15_fields_a_zoned_timestamp_and_no_actor_id():
    token = REQUEST_ID.set("req-7")
    try:
        line = _line(actor_id="dev-9", tenant_id="tenant-a")
    finally:
        REQUEST_ID.reset(token)
    assert {
        "timestamp",
        "level",
        "tenant_id",
        "actor_id",
        "decision_id",
        "event_type",
        "message",
        "error",
    } <= set(line)
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None
    assert (line["level"], line["tenant_id"], line["request_id"]) == ("INFO", "tenant-a", "req-7")
    assert line["message"] == "GET /v1/mmm/actors/{actor_id}/nudges"
    assert re.fullmatch(r"[0-9a-f]{16}", line["actor_id"])
    assert line["actor_id"] == _line(actor_id="dev-9")["actor_id"] != _line(actor_id="dev-8")["actor_id"]
    assert "dev-9" not in json.dumps(line)
    assert "trace_id" not in line  # no span is recording


def test_an_exception_names_its_class_in_error():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("mmm.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(EngineJsonFormatter().format(record))
    assert line["error"] == "ValueError"


def test_a_503_is_a_warning_for_django_s_request_log_and_a_500_stays_an_error():
    """A 503 answers a component or peer that is down (NFR-6): expected all through an outage, so
    one WARNING line per request, not an ERROR (operator finding); a 500 is a bug and stays ERROR."""
    from django.utils.log import log_response

    from mmm_project.observability.logs import UnavailableIsExpected

    request_log = logging.getLogger("django.request")
    assert any(isinstance(f, UnavailableIsExpected) for f in request_log.filters)  # the LOGGING setting
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger().addHandler(handler)
    try:
        for status in (503, 500):
            response = type("Response", (), {"status_code": status, "_has_been_logged": False})()
            log_response("%s: %s", "Service", "/v1/mmm/decide", response=response)
    finally:
        logging.getLogger().removeHandler(handler)
    assert [(r.status_code, r.levelname) for r in records if r.name == "django.request"] == [
        (503, "WARNING"),
        (500, "ERROR"),
    ]
