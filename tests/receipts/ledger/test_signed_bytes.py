"""The fast signed-bytes path of ``verify_receipts``: RFC 8785 bytes for the usual receipt, exact
RFC 8785 whenever the fast form differs, and never a signature trusted over bytes it did not sign."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from receipts.canonical import canonical_bytes
from receipts.ledger.hashing import leaf_hash
from receipts.ledger.signed_bytes import check_receipt, fast_form, signature_valid
from receipts.signing import b64url

KEY = SigningKey.generate()
KEYS = {"k": bytes(KEY.verify_key)}


def _sign(body) -> str:
    return b64url(KEY.sign(canonical_bytes(body)).signature)


@pytest.mark.parametrize(
    "body",
    [
        {"risk_score": 0.0, "b": [1.0, 2.5, -3.0, 10.05], "a": {"z": 100.0, "y": None}},
        {"score": 0.35, "n": 12, "text": "plain ascii", "nested": [{"x": 1.0}]},
        {"ok": True, "empty": {}, "list": [], "unicode": "caf\u00e9 \u2713"},
    ],
)
def test_the_fast_form_is_rfc8785_for_usual_bodies(body):
    assert fast_form(body) == canonical_bytes(body)


@pytest.mark.parametrize(
    "body",
    [
        {"version": "v1.0]", "note": "2.0,", "score": 1.0},  # ".0" in strings, spelt like numbers
        {"a": 1e16, "b": 1.2345678901234568e20, "c": 1e-6},  # ES6 writes these without exponent
        {"\U0001f600": 1, "\uffff": 2},  # RFC 8785 sorts by UTF-16 code units
        {"neg_zero": -0.0},
    ],
)
def test_where_the_fast_form_differs_rfc8785_decides(body):
    signature = _sign(body)
    leaf, status = check_receipt(KEYS, body, signature, "k", False)
    assert status == "valid"
    assert leaf == leaf_hash(canonical_bytes(body))


def test_a_decision_receipt_verifies_on_the_fast_path_alone(monkeypatch):
    from receipts.ledger import signed_bytes

    body = {"kind": "decision", "risk_score": 0.0, "degraded": False, "playbooks_matched": 1}
    monkeypatch.setattr(signed_bytes, "canonical_bytes", lambda _: pytest.fail("RFC 8785 was needed"))
    leaf, status = check_receipt(KEYS, body, _sign(body), "k", False)
    assert status == "valid" and leaf == leaf_hash(
        b'{"degraded":false,"kind":"decision","playbooks_matched":1,"risk_score":0}'
    )


def test_a_changed_body_an_unknown_key_or_a_bad_signature_is_invalid():
    body = {"risk_score": 0.0, "a": "x"}
    signature = _sign(body)
    assert check_receipt(KEYS, {**body, "a": "y"}, signature, "k", False)[1] == "invalid"
    assert check_receipt(KEYS, {**body, "risk_score": 0.5}, signature, "k", False)[1] == "invalid"
    assert check_receipt(KEYS, body, signature, "other-kid", False)[1] == "invalid"
    assert check_receipt(KEYS, body, "not base64 !", "k", False)[1] == "invalid"
    assert check_receipt(KEYS, body, signature[:-4], "k", False)[1] == "invalid"
    assert not signature_valid(None, canonical_bytes(body), signature)


def test_a_redacted_receipt_is_counted_not_checked():
    body = {"actor_id": "deleted-00", "risk_score": 1.0}
    leaf, status = check_receipt(KEYS, body, "whatever", "k", True)
    assert status == "redacted" and leaf == leaf_hash(canonical_bytes(body))
