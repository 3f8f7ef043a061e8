"""``log_audit`` with forked workers: each reads its chunks on its own connection, so the rows
must be committed (a transactional test); the answer, tampering included, is the one-process one."""

from __future__ import annotations

import pytest
from django.db import transaction

from receipts.ledger import audit
from receipts.ledger.audit import log_audit
from receipts.ledger.services import receipt_log_append
from receipts.models import Receipt
from tests.receipts.ledger.helpers import make_receipts

pytestmark = pytest.mark.django_db(transaction=True)


def _answer(result: audit.LogAudit) -> tuple:
    return (
        result.receipts,
        result.valid,
        result.unlogged,
        sorted((entry[0] if entry[0] is not None else -1, entry[1]) for entry in result.invalid),
        sorted(finding.line() for finding in result.findings),
    )


def test_workers_find_what_one_process_finds(monkeypatch):
    receipts = make_receipts(9)
    receipt_log_append(tenant_id="tenant-a")
    make_receipts(2, start=20)  # not in the log yet
    monkeypatch.setattr(audit, "CHUNK", 2)  # five chunks of the log, beyond it, not in it
    clean = log_audit(tenant_id="tenant-a", workers=3)
    assert clean.ok and clean.receipts == 11 and clean.unlogged == 2
    Receipt.objects.filter(pk=receipts[2].pk).delete()
    with transaction.atomic():
        Receipt.objects.filter(pk=receipts[5].pk).update(leaf_index=None)
        Receipt.objects.filter(pk=receipts[7].pk).update(leaf_index=5)
        Receipt.objects.filter(pk=receipts[5].pk).update(leaf_index=7)
    Receipt.objects.filter(pk=receipts[8].pk).update(payload={**receipts[8].payload, "gate_id": "mmn"})
    seen = []
    parallel = log_audit(tenant_id="tenant-a", workers=3, progress=lambda done, total: seen.append(done))
    single = log_audit(tenant_id="tenant-a", workers=1)
    assert _answer(parallel) == _answer(single)
    lines = _answer(parallel)[4]
    assert "MISSING at index 2: no receipt holds this log entry" in lines
    assert f"REORDERED at index 5: receipt {receipts[7].pk} is the log's entry 7" in lines
    assert any(line.startswith(f"CHANGED at index 8: receipt {receipts[8].pk}") for line in lines)
    assert [entry[1] for entry in parallel.invalid] == [str(receipts[8].pk)]
    assert len(seen) == 7 and seen[-1] == 10  # every chunk reported; 10 receipts left
