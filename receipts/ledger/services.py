"""Writes of the receipt ledger: append receipts to their tenant's log, sign tree heads, send them.

The decide path pays at most one cheap call, ``receipt_log_append_soon`` (a dictionary lookup and,
once per ``APPEND_DELAY_SECONDS`` per process and tenant, an after-commit enqueue). The Celery task
``receipts.log_append`` then appends, in one transaction per batch and holding the row lock on the
tenant's ``ReceiptLog`` head (one writer per tenant), every receipt of the tenant not in the log
yet, oldest first: the log is in the order receipts became visible (committed). Each batch stores
the new leaf and interior nodes, gives each receipt its ``leaf_index``, and signs a tree head that,
like a receipt, goes to ERIS (an outbox) or stays local. Beat's ``receipts.log_sweep`` is the
backstop (a lost enqueue, a rollback, the broker down).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from mmm_project.background.outbox import Outbox
from mmm_project.background.queueing import enqueue, enqueue_after_commit
from mmm_project.clients.eris import post_receipt
from mmm_project.residency import tenant_atomic, tenant_connection
from receipts.ledger.hashing import EMPTY_ROOT, receipt_leaf_hash
from receipts.ledger.models import LogNode, ReceiptLog, SignedTreeHead
from receipts.ledger.tree import CompactRange
from receipts.models import Receipt, ReceiptStatus
from receipts.signing import ALGORITHM, sign

logger = logging.getLogger(__name__)

# Receipts per append transaction: storing a receipt's leaf index and its nodes takes ~0.1 ms on
# PostgreSQL here (bench/ledger.py), so a full batch holds the tenant's lock well under a second.
APPEND_BATCH = 2000
# The decide path enqueues the append at most this often per process and tenant, delayed as much,
# so that one task finds the receipts of that window together.
APPEND_DELAY_SECONDS = 2.0
TREE_HEAD_KIND = "tree_head"
LOG_FORMAT = "mmm-receipt-log/v1: RFC 9162 SHA-256; leaf = RFC 8785 canonical signed receipt body"

_next_enqueue: dict[str, float] = {}


def receipt_log_append_soon(*, tenant_id: str) -> None:
    """Ask for ``tenant_id``'s log to be appended within ``APPEND_DELAY_SECONDS`` (after commit).

    Called by ``receipt_create`` for every receipt; enqueues at most once per window per process.
    A window whose enqueue is lost (rollback, broker down) is caught up by beat's sweep.
    """
    now = time.monotonic()
    if _next_enqueue.get(tenant_id, 0.0) > now:
        return
    _next_enqueue[tenant_id] = now + APPEND_DELAY_SECONDS
    enqueue_after_commit("receipts.log_append", [tenant_id], countdown=APPEND_DELAY_SECONDS)


def _locked_log(tenant_id: str) -> ReceiptLog:
    """The tenant's log head, created empty on first use, locked until the transaction ends."""
    # ON CONFLICT DO NOTHING: a concurrent first append waits for the other insert, then locks.
    ReceiptLog.objects.bulk_create(
        [ReceiptLog(tenant_id=tenant_id, root_hash=EMPTY_ROOT, frontier=b"")], ignore_conflicts=True
    )
    return ReceiptLog.objects.select_for_update().get(tenant_id=tenant_id)


def _leaves(waiting: list[tuple[uuid.UUID, bytes | None]]) -> list[bytes]:
    """Leaf hashes made when the receipts were signed; receipts from before the log have none:
    theirs is made from the stored body (a legacy body redacted later keeps this leaf)."""
    missing = [rid for rid, leaf in waiting if leaf is None]
    bodies = (
        dict(Receipt.objects.filter(pk__in=missing).values_list("receipt_id", "payload")) if missing else {}
    )
    return [bytes(leaf) if leaf is not None else receipt_leaf_hash(bodies[rid]) for rid, leaf in waiting]


def _set_leaf_indexes(ids: list[uuid.UUID], first: int) -> None:
    """Give ``ids`` the leaf indexes ``first``, ``first + 1``... in one statement on PostgreSQL
    (Django's ``bulk_update`` builds a CASE per row: quadratic in the batch)."""
    connection = tenant_connection()
    if connection.vendor != "postgresql":
        Receipt.objects.bulk_update(
            [Receipt(receipt_id=rid, leaf_index=first + n) for n, rid in enumerate(ids)],
            ["leaf_index"],
            batch_size=500,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Receipt._meta.db_table} AS r SET leaf_index = v.leaf_index "  # noqa: S608 - our table
            "FROM unnest(%s::uuid[], %s::bigint[]) AS v(receipt_id, leaf_index) "
            "WHERE r.receipt_id = v.receipt_id",
            [ids, list(range(first, first + len(ids)))],
        )


def receipt_log_append(*, tenant_id: str, limit: int = APPEND_BATCH) -> int:
    """Append up to ``limit`` of the tenant's receipts not in its log yet; sign the new head.

    Returns how many were appended (0: nothing was waiting, no new head). Concurrent calls for one
    tenant run one after the other (row lock); every receipt gets exactly one leaf index.
    """
    with tenant_atomic():
        log = _locked_log(tenant_id)
        # Read after taking the lock: receipts a previous holder appended are visible as such.
        waiting = list(
            Receipt.objects.filter(tenant_id=tenant_id, leaf_index__isnull=True)
            .order_by("created_at", "receipt_id")
            .values_list("receipt_id", "leaf_hash")[:limit]
        )
        if not waiting:
            return 0
        tree = CompactRange.from_bytes(log.size, bytes(log.frontier))
        first = tree.size
        nodes = tree.extend(_leaves(waiting))
        LogNode.objects.bulk_create(
            [LogNode(tenant_id=tenant_id, level=level, index=index, hash=h) for level, index, h in nodes],
            batch_size=1000,
        )
        _set_leaf_indexes([rid for rid, _ in waiting], first)
        now = timezone.now()
        log.size, log.root_hash, log.frontier, log.updated_at = tree.size, tree.root(), tree.to_bytes(), now
        log.save(update_fields=["size", "root_hash", "frontier", "updated_at"])
        tree_head_sign(tenant_id=tenant_id, tree_size=tree.size, root_hash=log.root_hash, now=now)
    logger.info(
        "receipt log appended", extra={"tenant_id": tenant_id, "appended": len(waiting), "size": tree.size}
    )
    return len(waiting)


def tree_head_body(
    *, head_id: str, tenant_id: str, tree_size: int, root_hash: bytes, now: datetime
) -> dict[str, Any]:
    """The signed body of a tree head: ``{"kind": "tree_head", "receipt_id" (the head's id, ERIS'
    idempotency key), "tenant_id", "tree_size", "root_hash" (hex), "timestamp_utc", "log_format"}``."""
    return {
        "kind": TREE_HEAD_KIND,
        "receipt_id": head_id,
        "tenant_id": tenant_id,
        "tree_size": tree_size,
        "root_hash": root_hash.hex(),
        "timestamp_utc": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "log_format": LOG_FORMAT,
    }


def tree_head_sign(*, tenant_id: str, tree_size: int, root_hash: bytes, now: datetime) -> SignedTreeHead:
    """Sign and store a tree head in the caller's transaction (Ed25519, the receipt key and ``kid``);
    with ``ERIS_URL`` set it is ``pending`` and sent after commit, else ``local``."""
    head_id = uuid.uuid4()
    body = tree_head_body(
        head_id=str(head_id), tenant_id=tenant_id, tree_size=tree_size, root_hash=root_hash, now=now
    )
    signature, kid = sign(body)
    head = SignedTreeHead.objects.create(
        id=head_id,
        tenant_id=tenant_id,
        tree_size=tree_size,
        payload=body,
        signature=signature,
        kid=kid,
        status=ReceiptStatus.PENDING if settings.ERIS_URL else ReceiptStatus.LOCAL,
        next_attempt_at=HEAD_OUTBOX.first_attempt_due(now),
        created_at=now,
        updated_at=now,
    )
    if head.status == ReceiptStatus.PENDING:
        HEAD_OUTBOX.enqueue_after_commit([head_id])
    return head


def tree_head_document(head: SignedTreeHead) -> dict[str, Any]:
    """The head as published and sent to ERIS: its signed body plus ``signature`` {algorithm, kid, value}."""
    return {**head.payload, "signature": {"algorithm": ALGORITHM, "kid": head.kid, "value": head.signature}}


HEAD_OUTBOX = Outbox(
    model=SignedTreeHead,
    done_field="sent_at",
    sweep_age_setting="RECEIPT_SWEEP_AGE_SECONDS",
    task_name="receipts.head_emit",
)


def _head_result(head: SignedTreeHead, result: str) -> None:
    if result != "sent":
        logger.warning("tree head not delivered to ERIS", extra={"head_id": str(head.pk), "result": result})


def tree_head_send(*, head_id: str) -> str:
    """Deliver one pending tree head to ERIS like a receipt; its status afterwards (or ``"skipped"``).

    Raises:
        PeerUnavailable: after recording the attempt, so the task can retry with backoff.
    """
    return HEAD_OUTBOX.send(
        head_id, deliver=lambda head: post_receipt(tree_head_document(head)), on_result=_head_result
    )


def receipt_log_sweep() -> int:
    """Beat backstop: queue an append for every tenant with receipts not in its log (run here in the
    embedded default), and re-send tree heads left pending. Returns how many tenants were queued."""
    tenants = list(
        Receipt.objects.filter(leaf_index__isnull=True)
        .values_list("tenant_id", flat=True)
        .distinct()
        .order_by()
    )
    if tenants:
        enqueue("receipts.log_append", tenants, from_request=False, run_eagerly=True)
    HEAD_OUTBOX.sweep(min_age=timedelta(seconds=settings.RECEIPT_SWEEP_AGE_SECONDS))
    return len(tenants)
