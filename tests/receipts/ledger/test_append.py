"""Appending receipts to the tenant's Merkle log and signing tree heads (issue 14)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from receipts.ledger.hashing import receipt_leaf_hash
from receipts.ledger.models import LogNode, ReceiptLog, SignedTreeHead
from receipts.ledger.services import (
    receipt_log_append,
    receipt_log_append_soon,
    receipt_log_sweep,
    tree_head_document,
    tree_head_send,
)
from receipts.ledger.tree import root_of
from receipts.models import Receipt
from receipts.signing import public_jwks
from receipts.verify_offline import verify_head
from tests.peers import FakeEris
from tests.receipts.ledger.helpers import make_receipts

pytestmark = pytest.mark.django_db


def _leaves(tenant_id: str = "tenant-a") -> list[bytes]:
    rows = (
        Receipt.objects.filter(tenant_id=tenant_id).order_by("leaf_index").values_list("payload", flat=True)
    )
    return [receipt_leaf_hash(payload) for payload in rows]


def test_receipts_are_appended_in_order_with_a_signed_head():
    # given five receipts of tenant-a and one of tenant-b
    receipts = make_receipts(5)
    make_receipts(1, tenant_id="tenant-b")
    # when tenant-a's log is appended
    assert receipt_log_append(tenant_id="tenant-a") == 5
    # then each receipt has its index, in creation order, and the head is the tree of their leaves
    indexes = [Receipt.objects.get(pk=r.pk).leaf_index for r in receipts]
    assert indexes == [0, 1, 2, 3, 4]
    log = ReceiptLog.objects.get(tenant_id="tenant-a")
    assert log.size == 5 and bytes(log.root_hash) == root_of(_leaves())
    head = SignedTreeHead.objects.get(tenant_id="tenant-a")
    document = tree_head_document(head)
    assert document["tree_size"] == 5 and document["root_hash"] == bytes(log.root_hash).hex()
    verify_head(public_jwks(), document)  # Ed25519 with the receipt key's kid
    assert head.status == "local"
    # and tenant-b's receipt is untouched; nothing waiting means no new head
    assert Receipt.objects.get(tenant_id="tenant-b").leaf_index is None
    assert receipt_log_append(tenant_id="tenant-a") == 0
    assert SignedTreeHead.objects.filter(tenant_id="tenant-a").count() == 1


def test_batches_grow_the_same_tree_as_one_append():
    make_receipts(11)
    assert [receipt_log_append(tenant_id="tenant-a", limit=4) for _ in range(4)] == [4, 4, 3, 0]
    log = ReceiptLog.objects.get(tenant_id="tenant-a")
    assert bytes(log.root_hash) == root_of(_leaves())
    assert list(SignedTreeHead.objects.order_by("tree_size").values_list("tree_size", flat=True)) == [
        4,
        8,
        11,
    ]
    # every perfect subtree is stored once: 11 leaves, 5 + 2 + 1 interior nodes
    assert LogNode.objects.filter(level=0).count() == 11
    assert LogNode.objects.count() == 11 + 5 + 2 + 1


def test_the_leaf_is_over_the_signed_body_so_redaction_never_rewrites_the_log():
    # given a receipt signed now (its leaf made with its signature) and one from before the log
    receipt, legacy = make_receipts(2)
    assert bytes(receipt.leaf_hash) == receipt_leaf_hash(receipt.payload)
    Receipt.objects.filter(pk=legacy.pk).update(leaf_hash=None)
    receipt_log_append(tenant_id="tenant-a")
    # then both leaves are over the signed bytes, the legacy one made from its stored body
    assert bytes(LogNode.objects.get(level=0, index=1).hash) == receipt_leaf_hash(legacy.payload)
    leaf = bytes(LogNode.objects.get(level=0, index=0).hash)
    assert leaf == receipt_leaf_hash({**receipt.payload, "signature": {"ignored": True}})
    Receipt.objects.filter(pk=receipt.pk).update(payload={**receipt.payload, "actor_id": "deleted-1"})
    # then the stored leaf is unchanged (nodes are never rewritten)
    assert bytes(LogNode.objects.get(level=0, index=0).hash) == leaf


def test_heads_go_to_eris_like_receipts(httpserver, settings):
    eris = FakeEris()
    settings.ERIS_URL = eris.install(httpserver)
    make_receipts(2)
    receipt_log_append(tenant_id="tenant-a")
    head = SignedTreeHead.objects.get()
    assert head.status == "pending"
    assert tree_head_send(head_id=str(head.pk)) == "sent"
    stored = eris.stored[str(head.pk)]
    assert stored == tree_head_document(head) and stored["kind"] == "tree_head"
    head.refresh_from_db()
    assert head.status == "sent" and head.sent_at is not None


def test_the_decide_path_enqueues_at_most_once_per_window(monkeypatch):
    from receipts.ledger import services

    calls = []
    monkeypatch.setattr(services, "_next_enqueue", {})
    monkeypatch.setattr(services, "enqueue_after_commit", lambda *a, **kw: calls.append((a, kw)))
    make_receipts(3)
    make_receipts(1, tenant_id="tenant-b")
    receipt_log_append_soon(tenant_id="tenant-a")
    assert calls == [
        (("receipts.log_append", ["tenant-a"]), {"countdown": services.APPEND_DELAY_SECONDS}),
        (("receipts.log_append", ["tenant-b"]), {"countdown": services.APPEND_DELAY_SECONDS}),
    ]


def test_the_sweep_appends_every_tenant_with_waiting_receipts():
    make_receipts(2)
    make_receipts(3, tenant_id="tenant-b")
    assert receipt_log_sweep() == 2  # embedded default: the tasks run here
    assert not Receipt.objects.filter(leaf_index__isnull=True).exists()
    assert dict(ReceiptLog.objects.values_list("tenant_id", "size")) == {"tenant-a": 2, "tenant-b": 3}


def test_beat_runs_the_log_sweep_every_few_seconds():
    entry = django_settings.CELERY_BEAT_SCHEDULE["receipt-log-sweep"]
    assert entry["task"] == "receipts.log_sweep"
    assert 0 < entry["schedule"] <= 10
    assert django_settings.CELERY_TASK_ROUTES["receipts.*"]["queue"] == "receipts"
    from mmm_project.celery import app

    app.loader.import_default_modules()
    assert {"receipts.log_sweep", "receipts.log_append", "receipts.head_emit"} <= set(app.tasks)


def test_sweep_receipts_appends_the_logs_in_the_embedded_default():
    import io

    from django.core.management import call_command

    make_receipts(3)
    out = io.StringIO()
    call_command("sweep_receipts", stdout=out)
    assert "1 tenant receipt log(s) appended" in out.getvalue()
    assert ReceiptLog.objects.get(tenant_id="tenant-a").size == 3
