"""Reads of the receipt ledger, scoped to one tenant: tree heads and RFC 9162 proofs.

Proofs are built from stored perfect subtrees (``LogNode``): an inclusion or consistency proof
reads O(log n) nodes in one query, whatever the log's size. Hashes are lowercase hex.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q

from mmm_project.errors import ApplicationError, NotFound
from receipts.ledger.models import LogNode, ReceiptLog, SignedTreeHead
from receipts.ledger.proofs import Range, consistency_ranges, inclusion_ranges
from receipts.ledger.services import tree_head_document
from receipts.ledger.tree import NodeId, perfect_subtrees, subtree_hash
from receipts.models import Receipt


def tree_head_latest(*, tenant_id: str) -> SignedTreeHead:
    """The tenant's newest signed tree head. Raises NotFound while its log is empty."""
    head = SignedTreeHead.objects.for_tenant(tenant_id).order_by("-tree_size").first()
    if head is None:
        raise NotFound("Receipt log")
    return head


def _head_document(tenant_id: str, tree_size: int) -> dict[str, Any] | None:
    head = SignedTreeHead.objects.for_tenant(tenant_id).filter(tree_size=tree_size).first()
    return tree_head_document(head) if head is not None else None


def log_size(*, tenant_id: str) -> int:
    """How many receipts the tenant's log holds (0 before its first append)."""
    return ReceiptLog.objects.filter(tenant_id=tenant_id).values_list("size", flat=True).first() or 0


def log_nodes(*, tenant_id: str, ids: set[NodeId]) -> dict[NodeId, bytes]:
    """The stored hashes of nodes ``(level, index)``; missing ones are simply absent."""
    if not ids:
        return {}
    where = Q()
    for level, index in ids:
        where |= Q(level=level, index=index)
    rows = LogNode.objects.for_tenant(tenant_id).filter(where).values_list("level", "index", "hash")
    return {(level, index): bytes(h) for level, index, h in rows}


def _path(tenant_id: str, ranges: list[Range], extra: set[NodeId] = frozenset()) -> tuple[list[str], dict]:
    ids = {node for begin, end in ranges for node in perfect_subtrees(begin, end)} | set(extra)
    nodes = log_nodes(tenant_id=tenant_id, ids=ids)
    return [subtree_hash(begin, end, nodes).hex() for begin, end in ranges], nodes


def _size_in_log(tenant_id: str, field: str, value: int | None) -> int:
    size = log_size(tenant_id=tenant_id)
    if value is None:
        return tree_head_latest(tenant_id=tenant_id).tree_size
    if not 1 <= value <= size:
        raise ApplicationError(
            "VALIDATION_ERROR",
            f"The log holds {size} receipt(s).",
            fields={field: [f"must be between 1 and the log's size ({size})"]},
        )
    return value


def inclusion_proof(*, tenant_id: str, receipt_id: uuid.UUID, tree_size: int | None = None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of one receipt in the tenant's tree of ``tree_size`` (default: the
    latest signed head's size).

    Returns ``{"receipt_id", "leaf_index", "tree_size", "leaf_hash", "audit_path": [hex, ...],
    "tree_head": signed head document of that size or None}``.

    Raises:
        NotFound: no such receipt in this tenant (or the log is empty).
        ApplicationError: ``RECEIPT_NOT_IN_LOG`` (409, not appended yet: retry in seconds),
            ``VALIDATION_ERROR`` (``tree_size`` outside the log, or before the receipt).
    """
    leaf_index = (
        Receipt.objects.for_tenant(tenant_id)
        .filter(pk=receipt_id)
        .values_list("leaf_index", flat=True)
        .first()
    )
    if leaf_index is None:
        if not Receipt.objects.for_tenant(tenant_id).filter(pk=receipt_id).exists():
            raise NotFound("Receipt")
        raise ApplicationError(
            "RECEIPT_NOT_IN_LOG",
            "The receipt is not in the log yet; retry in a few seconds.",
            status_code=409,
        )
    size = _size_in_log(tenant_id, "tree_size", tree_size)
    if leaf_index >= size:
        raise ApplicationError(
            "VALIDATION_ERROR",
            f"The receipt is entry {leaf_index}: it is not in a tree of size {size}.",
            fields={"tree_size": [f"must be more than {leaf_index}"]},
        )
    path, nodes = _path(tenant_id, inclusion_ranges(leaf_index, size), {(0, leaf_index)})
    return {
        "receipt_id": str(receipt_id),
        "leaf_index": leaf_index,
        "tree_size": size,
        "leaf_hash": nodes[(0, leaf_index)].hex(),
        "audit_path": path,
        "tree_head": _head_document(tenant_id, size),
    }


def consistency_proof(*, tenant_id: str, first: int, second: int | None = None) -> dict[str, Any]:
    """RFC 9162 consistency proof between the tenant's trees of ``first`` and ``second`` leaves
    (default ``second``: the latest signed head's size).

    Returns ``{"first", "second", "consistency_path": [hex, ...], "first_tree_head",
    "second_tree_head"}`` (signed head documents of those sizes, or None).

    Raises:
        NotFound: the log is empty.
        ApplicationError: ``VALIDATION_ERROR`` unless ``1 <= first <= second <= size``.
    """
    second = _size_in_log(tenant_id, "second", second)
    first = _size_in_log(tenant_id, "first", first)
    if first > second:
        raise ApplicationError(
            "VALIDATION_ERROR", "first is after second.", fields={"first": ["must be at most second"]}
        )
    path, _ = _path(tenant_id, consistency_ranges(first, second))
    return {
        "first": first,
        "second": second,
        "consistency_path": path,
        "first_tree_head": _head_document(tenant_id, first),
        "second_tree_head": _head_document(tenant_id, second),
    }
