"""Concurrent receipts and appends: one leaf per receipt, no gap, no duplicate (issue 14).

Real transactions (``transaction=True``): eight threads, each on its own connection, write
receipts and run the appender for the same tenant at the same time. The row lock on the
tenant's log head must serialise the appenders. (The 60-second, 8-connection run through
gunicorn and a Celery worker is ``bench/ledger.py``.)
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from receipts.ledger.audit import log_audit
from receipts.ledger.models import LogNode, ReceiptLog, SignedTreeHead
from receipts.ledger.services import receipt_log_append
from receipts.models import Receipt
from tests.receipts.ledger.helpers import make_receipts

THREADS = 8
ROUNDS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_appenders_leave_one_leaf_per_receipt():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises every writer anyway)")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    appended: list[int] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for round_ in range(ROUNDS):
                make_receipts(2, start=100 * n + 2 * round_)
                appended.append(receipt_log_append(tenant_id="tenant-a", limit=5))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    while receipt_log_append(tenant_id="tenant-a"):
        pass
    total = THREADS * ROUNDS * 2
    indexes = sorted(Receipt.objects.filter(tenant_id="tenant-a").values_list("leaf_index", flat=True))
    assert indexes == list(range(total))
    assert ReceiptLog.objects.get(tenant_id="tenant-a").size == total
    assert LogNode.objects.filter(level=0).count() == total
    assert sum(appended) <= total and SignedTreeHead.objects.filter(tree_size=total).count() == 1
    audit = log_audit(tenant_id="tenant-a", workers=1)
    assert audit.ok and audit.receipts == total and audit.heads == SignedTreeHead.objects.count()
