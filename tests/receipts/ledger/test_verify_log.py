"""``manage.py verify_receipts``: the log recomputed from stored receipts, tampering named by index."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from nacl.signing import SigningKey

from receipts.canonical import canonical_bytes
from receipts.ledger.audit import check_receipt, log_audit
from receipts.ledger.hashing import leaf_hash
from receipts.ledger.models import LogNode, SignedTreeHead
from receipts.ledger.services import receipt_log_append
from receipts.models import Receipt
from receipts.signing import b64url
from tests.receipts.ledger.helpers import make_receipts

pytestmark = pytest.mark.django_db


@pytest.fixture
def log():
    receipts = make_receipts(6)
    receipt_log_append(tenant_id="tenant-a", limit=4)
    receipt_log_append(tenant_id="tenant-a")
    return receipts


def _verify(*args) -> tuple[str, bool]:
    out = io.StringIO()
    try:
        call_command("verify_receipts", "--tenant", "tenant-a", *args, stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def _set_index(receipt: Receipt, index: int | None) -> None:
    Receipt.objects.filter(pk=receipt.pk).update(leaf_index=index)


def test_an_untouched_log_verifies(log):
    out, ok = _verify()
    assert ok, out
    assert "6 receipt(s) checked, 6 valid, 0 invalid" in out
    assert "log of 6 entries, 2 signed head(s) (latest size 6), 0 log problem(s)" in out


def test_a_deleted_receipt_is_named_missing(log):
    Receipt.objects.filter(pk=log[2].pk).delete()
    out, ok = _verify()
    assert not ok
    assert "MISSING at index 2: no receipt holds this log entry" in out
    assert "1 log problem(s)" in out


def test_two_swapped_receipts_are_named_reordered(log):
    with transaction.atomic():
        _set_index(log[1], None)
        _set_index(log[4], 1)
        _set_index(log[1], 4)
    out, ok = _verify()
    assert not ok
    assert f"REORDERED at index 1: receipt {log[4].pk} is the log's entry 4" in out
    assert f"REORDERED at index 4: receipt {log[1].pk} is the log's entry 1" in out


def test_one_changed_byte_is_named_changed_and_its_signature_invalid(log):
    payload = {**log[3].payload, "gate_id": "mmn"}  # one byte of the stored body
    Receipt.objects.filter(pk=log[3].pk).update(payload=payload)
    out, ok = _verify()
    assert not ok
    assert f"CHANGED at index 3: receipt {log[3].pk} does not match its log entry (invalid signature)" in out
    assert f"INVALID {log[3].pk} admin_config" in out


def test_an_inserted_receipt_is_named(log):
    # a receipt renumbered into the middle: the ones after it shift by one
    (extra,) = make_receipts(1, start=50)
    with transaction.atomic():
        for receipt in reversed(log[2:]):
            _set_index(receipt, Receipt.objects.get(pk=receipt.pk).leaf_index + 1)
        _set_index(extra, 2)
    out, ok = _verify()
    assert not ok
    assert f"INSERTED at index 2: receipt {extra.pk} is in no log entry" in out
    assert f"INSERTED at index 6: receipt {log[5].pk} has an index beyond the log" in out
    assert f"REORDERED at index 3: receipt {log[2].pk} is the log's entry 2" in out


def test_a_changed_log_entry_or_head_is_caught_by_the_signed_heads(log):
    LogNode.objects.filter(level=0, index=1).update(hash=b"\x01" * 32)
    head = SignedTreeHead.objects.get(tree_size=6)
    SignedTreeHead.objects.filter(pk=head.pk).update(payload={**head.payload, "root_hash": "00" * 32})
    out, ok = _verify()
    assert not ok
    assert "HEAD_MISMATCH at index 3: the log's root at size 4 is not the signed one" in out
    assert "HEAD_SIGNATURE at index 6: the tree head of size 6 does not verify" in out
    assert f"CHANGED at index 1: receipt {log[1].pk}" in out


def test_receipts_waiting_for_the_log_and_redacted_ones_are_reported_not_failed(log):
    make_receipts(2, start=10)
    Receipt.objects.filter(pk=log[0].pk).update(payload={**log[0].payload, "actor_id": "deleted-00"})
    Receipt.objects.filter(pk=log[0].pk).update(redacted_at=log[0].created_at)
    out, ok = _verify()
    assert ok, out
    assert "8 receipt(s) checked, 7 valid, 0 invalid, 1 redacted" in out
    assert "2 receipt(s) not in the log yet" in out


def test_the_fast_canonical_form_is_only_trusted_when_the_signature_verifies(log):
    # a body whose json.dumps form differs from RFC 8785 (a float ES6 prints as "1" and
    # Python as "1.0"): the leaf is still over the RFC 8785 bytes
    key = SigningKey.generate()
    body = {"b": 1.0, "a": "x"}
    value = b64url(key.sign(canonical_bytes(body)).signature)
    leaf, status = check_receipt({"k": bytes(key.verify_key)}, body, value, "k", False)
    assert status == "valid" and leaf == leaf_hash(canonical_bytes(body)) == leaf_hash(b'{"a":"x","b":1}')
    # and a signature that does not verify is invalid, with the leaf still over RFC 8785 bytes
    leaf, status = check_receipt({"k": bytes(key.verify_key)}, {**body, "a": "y"}, value, "k", False)
    assert status == "invalid" and leaf == leaf_hash(b'{"a":"y","b":1}')


def test_progress_is_reported_after_each_chunk(log, monkeypatch):
    from receipts.ledger import audit

    monkeypatch.setattr(audit, "CHUNK", 2)
    seen = []
    result = log_audit(
        tenant_id="tenant-a", workers=1, progress=lambda done, total: seen.append((done, total))
    )
    assert result.ok and result.receipts == 6
    assert seen[0] == (2, 6) and seen[-1] == (6, 6)
