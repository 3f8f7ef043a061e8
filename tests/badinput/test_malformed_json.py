"""Malformed JSON on the signal endpoints and the webhooks: a 400 naming the problem, nothing stored.

Each body here reached a 500 once: deep nesting (RecursionError), NUL characters (PostgreSQL's
JSONB refuses ``\\u0000``), lone surrogates (not encodable as UTF-8), and ``NaN``, ``Infinity``
or ``1e400`` (not JSON numbers).
"""

from __future__ import annotations

import json

import pytest

from decisions.intake.webhooks import github_sign, webhook_endpoint_create
from decisions.models import Decision, RejectedSignal, Signal
from receipts.models import Receipt
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

DECIDE, SIGNALS = "/v1/mmm/decide", "/v1/mmm/signals"
GITHUB, ALERTMANAGER = "/v1/mmm/webhooks/github", "/v1/mmm/webhooks/alertmanager"

SIGNAL = {
    "signal_id": "s-1",
    "source": "github",
    "event_type": "ci.check_run.failed",
    "severity": "high",
    "ts": "2026-03-04T12:00:00Z",
}


def decide_body(payload_json: str) -> str:
    """A decide request whose ``signal.payload`` is ``payload_json``, spliced in as raw text."""
    body = json.dumps({"tenant_id": "tenant-a", "signal": {**SIGNAL, "payload": {}}})
    return body.replace('"payload": {}', f'"payload": {payload_json}')


def signal_body(payload_json: str) -> str:
    envelope = {**SIGNAL, "tenant_id": "tenant-a", "actor_id": "actor-1", "payload": {}}
    return json.dumps(envelope).replace('"payload": {}', f'"payload": {payload_json}')


NESTED = "[" * 1000 + "]" * 1000
# (raw JSON of the payload, the field named, words of the message)
CASES = {
    "1,000-level nesting": (NESTED, "body", "nested deeper than"),
    "nesting past the limit": ('{"a":' * 70 + "1" + "}" * 70, "signal.payload.a.a", "nested deeper than"),
    "NUL in a value": ('{"k": "a\\u0000b"}', "signal.payload.k", "NUL"),
    "NUL in a key": ('{"a\\u0000": 1}', "signal.payload.<key>", "NUL"),
    "lone surrogate in a value": ('{"k": "\\ud800"}', "signal.payload.k", "surrogate"),
    "lone surrogate in a key": ('{"\\udc00x": 1}', "signal.payload.<key>", "surrogate"),
    "NaN": ('{"k": NaN}', "body", "NaN"),
    "Infinity": ('{"k": Infinity}', "body", "Infinity"),
    "-Infinity": ('{"k": [-Infinity]}', "body", "Infinity"),
    "1e400": ('{"k": 1e400}', "body", "out of range"),
}


def _assert_refused(response, field: str, words: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "MALFORMED_REQUEST"
    assert words in error["message"]
    # decide names signal.payload.k, a batch [1].payload.k
    assert any(field.removeprefix("signal.") in name for name in error["fields"]), error


def _nothing_written() -> None:
    assert (Signal.objects.count(), Decision.objects.count(), Receipt.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("case", CASES)
def test_decide_refuses_malformed_json(client_for, case):
    # given a decide request whose payload is malformed in one way
    raw, field, words = CASES[case]
    # when it is posted
    response = client_for().post(DECIDE, data=decide_body(raw), content_type="application/json")
    # then a 400 names the problem and nothing is written
    _assert_refused(response, field, words)
    _nothing_written()


@pytest.mark.parametrize("case", CASES)
def test_signals_refuse_malformed_json(client_for, case):
    raw, field, words = CASES[case]
    # a batch: the malformed signal second, so a half-stored batch would show
    good = json.dumps({**SIGNAL, "signal_id": "s-0", "tenant_id": "tenant-a", "actor_id": "actor-1"})
    body = f"[{good}, {signal_body(raw)}]"
    response = after_commit(client_for().post, SIGNALS, data=body, content_type="application/json")
    _assert_refused(response, field, words)
    _nothing_written()


def test_a_well_formed_payload_with_unicode_still_passes(client_for):
    raw = (
        '{"summary": "caf\\u00e9 \\ud83d\\ude00", "count": 1e300, "deep": '
        + '{"a":' * 20
        + "1"
        + "}" * 20
        + "}"
    )
    response = client_for().post(DECIDE, data=decide_body(raw), content_type="application/json")
    assert response.status_code == 200
    # stored as parsed; only allow-listed scalars are kept (decisions.intake.minimise)
    payload = Signal.objects.get().payload
    assert set(payload) == {"summary", "count"} and payload["summary"] == "café 😀"


@pytest.fixture
def github_secret():
    _, secret = webhook_endpoint_create(
        tenant_id="acme", provider="github", name="gh", routes=["installation:1"], actor_id="lead"
    )
    return secret


@pytest.mark.parametrize("case", ["1,000-level nesting", "NUL in a value", "lone surrogate in a key", "NaN"])
def test_github_webhook_refuses_malformed_json(client, github_secret, case):
    raw, _, words = CASES[case]
    body = f'{{"installation": {{"id": 1}}, "check_run": {raw}}}'.encode()
    response = client.post(
        GITHUB,
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="check_run",
        HTTP_X_GITHUB_DELIVERY="d-1",
        HTTP_X_HUB_SIGNATURE_256=github_sign(github_secret, body),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], words in error["message"]) == ("MALFORMED_REQUEST", True)
    assert (Signal.objects.count(), RejectedSignal.objects.count()) == (0, 0)


@pytest.mark.parametrize("case", ["1,000-level nesting", "NUL in a key", "Infinity"])
def test_alertmanager_webhook_refuses_malformed_json(client, case):
    _, token = webhook_endpoint_create(
        tenant_id="acme", provider="alertmanager", name="am", routes=[], actor_id="lead"
    )
    raw, _, words = CASES[case]
    body = '{"version": "4", "status": "firing", "alerts": [{"labels": ' + raw + "}]}"
    response = client.post(
        ALERTMANAGER, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], words in error["message"]) == ("MALFORMED_REQUEST", True)
    assert Signal.objects.count() == 0
