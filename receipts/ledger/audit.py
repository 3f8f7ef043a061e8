"""Whole-log verification (``manage.py verify_receipts``): signatures and completeness.

Recomputes each tenant's tree from stored receipts and checks it against the log and its signed
tree heads:

1. every signed head's signature (Ed25519, its ``kid``), and the root of the stored leaves at
   each head's size (a changed or lost log entry is caught by the next head);
2. every receipt's signature, and its leaf, ``SHA-256(0x00 || RFC 8785 form of the signed body)``
   (``signed_bytes.check_receipt``);
3. receipt by receipt, index by index: a log entry no receipt holds is *missing*; a receipt
   holding another index's entry is *reordered*; one whose leaf is in no log entry is *changed*
   (or *inserted*, when the entry of its index is held by a shifted receipt); one with an index
   beyond the log is *inserted*.

A receipt redacted on actor deletion (``redacted_at``, from before pseudonyms) no longer has the
signed bytes, so its leaf cannot be recomputed: it is counted, and its log entry stands.

Speed (100,000 receipts, ``bench/ledger_verify.py``): receipts are read in chunks of ``CHUNK`` log
indexes, only the columns the check needs, the body as text (parsed once with ``orjson``), in a
transaction so that PostgreSQL streams them (Django's server-side cursor outside one is ``WITH
HOLD``: the whole result is copied first). From ``PARALLEL_FROM`` receipts, ``workers`` processes
(forked, each its own database connection) take the chunks while this process reads the log's
leaves and heads. Ed25519 in libsodium is most of the work (two thirds of the CPU; 110 us of CPU a
receipt on the shared 2-core machine), then PostgreSQL's ``jsonb`` to text and remaking the bytes.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import orjson
from django.db import connections, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from receipts.canonical import canonical_bytes
from receipts.ledger.models import LogNode, SignedTreeHead
from receipts.ledger.selectors import log_size
from receipts.ledger.signed_bytes import check_receipt, signature_valid
from receipts.ledger.tree import CompactRange
from receipts.models import Receipt, ReceiptKey
from receipts.signing import b64url_decode

__all__ = ["CHUNK", "Finding", "LogAudit", "check_receipt", "log_audit"]

CHUNK = 5000
PARALLEL_FROM = 20_000
MAX_WORKERS = 4

Checked = tuple[int | None, str, str, str, bytes, str]  # leaf index, id, kind, kid, leaf, status


@dataclass(frozen=True)
class Finding:
    """One problem: ``problem`` is missing, reordered, changed, inserted, bad_signature,
    leaf_missing, head_mismatch or head_signature; ``index`` the log index it is at."""

    problem: str
    index: int | None
    receipt_id: str | None
    detail: str

    def line(self) -> str:
        where = f"index {self.index}" if self.index is not None else "not in the log"
        receipt = f" receipt {self.receipt_id}" if self.receipt_id else ""
        return f"{self.problem.upper()} at {where}:{receipt} {self.detail}"


@dataclass
class LogAudit:
    tenant_id: str
    log_size: int = 0
    head_size: int = 0
    heads: int = 0
    receipts: int = 0
    valid: int = 0
    redacted: int = 0
    unlogged: int = 0
    invalid: list[Checked] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.invalid and not self.findings


def receipt_rows(tenant_id: str, bounds: tuple[int | None, int | None]) -> QuerySet:
    """The columns a check needs, as ``(leaf index, id, kind, kid, body text, signature,
    redacted_at)``, of the tenant's receipts with ``begin <= leaf_index < end`` (``(None, None)``:
    not in the log; ``(begin, None)``: from ``begin`` on). Text columns are converted by nothing on
    the way; the body is decoded by the caller, once (a JSONField value costs a second, slower pass)."""
    begin, end = bounds
    rows = Receipt.objects.filter(tenant_id=tenant_id)
    if begin is None:
        rows = rows.filter(leaf_index__isnull=True)
    else:
        rows = rows.filter(leaf_index__gte=begin, **({"leaf_index__lt": end} if end is not None else {}))
    return rows.annotate(
        rid=Cast("receipt_id", output_field=TextField()), body=Cast("payload", output_field=TextField())
    ).values_list("leaf_index", "rid", "kind", "kid", "body", "signature", "redacted_at")


def _scan(tenant_id: str, keys: dict[str, bytes], bounds: tuple[int | None, int | None]) -> list[Checked]:
    """Check the receipts of ``receipt_rows(tenant_id, bounds)``."""
    rows = receipt_rows(tenant_id, bounds)
    loads = orjson.loads
    out: list[Checked] = []
    with transaction.atomic(using=rows.db):  # stream, not a WITH HOLD copy (module docstring)
        for index, rid, kind, kid, body, signature, redacted_at in rows.iterator(chunk_size=2000):
            leaf, status = check_receipt(keys, loads(body), signature, kid, redacted_at is not None)
            out.append((index, rid, kind, kid, leaf, status))
    return out


def _worker_init() -> None:
    connections.close_all()  # never share the parent's socket: each process connects anew
    multiprocessing.util.Finalize(None, connections.close_all, exitpriority=10)  # and says goodbye


def _heads(tenant_id: str, keys: dict[str, bytes], audit: LogAudit) -> dict[int, str]:
    roots: dict[int, str] = {}
    heads = SignedTreeHead.objects.for_tenant(tenant_id).order_by("tree_size")
    for size, payload, signature, kid in heads.values_list("tree_size", "payload", "signature", "kid"):
        audit.heads += 1
        valid = signature_valid(keys.get(kid), canonical_bytes(payload), signature)
        if not valid or payload.get("tree_size") != size:
            audit.findings.append(
                Finding("head_signature", size, None, f"the tree head of size {size} does not verify")
            )
        roots[size] = str(payload.get("root_hash"))
        audit.head_size = size
    return roots


def _leaves(tenant_id: str, roots: dict[int, str], audit: LogAudit) -> list[bytes]:
    """The log's leaf hashes by index, checked against every signed head on the way."""
    leaves: list[bytes] = []
    tree = CompactRange()
    stored = LogNode.objects.for_tenant(tenant_id).filter(level=0).order_by("index")
    for index, h in stored.values_list("index", "hash").iterator(chunk_size=10_000):
        while len(leaves) < index:  # a log entry deleted from the log itself
            audit.findings.append(Finding("leaf_missing", len(leaves), None, "the log has no entry here"))
            leaves.append(bytes(32))
            tree.append(leaves[-1])
        leaves.append(bytes(h))
        tree.append(leaves[-1])
        if tree.size in roots and tree.root().hex() != roots[tree.size]:
            audit.findings.append(
                Finding(
                    "head_mismatch",
                    tree.size - 1,
                    None,
                    f"the log's root at size {tree.size} is not the signed one",
                )
            )
    if len(leaves) < audit.head_size:
        audit.findings.append(
            Finding(
                "leaf_missing", len(leaves), None, f"the log stops before the signed size {audit.head_size}"
            )
        )
    return leaves


def _compare(leaves: list[bytes], checked: list[Checked], audit: LogAudit) -> None:
    position = {leaf: i for i, leaf in enumerate(leaves)}
    by_index: dict[int, Checked] = {}
    held = set()
    for entry in checked:
        index, rid, _, _, leaf, status = entry
        if status == "invalid":
            audit.invalid.append(entry)
        if index is None:
            audit.unlogged += 1
        elif index >= len(leaves):
            audit.findings.append(Finding("inserted", index, rid, "has an index beyond the log"))
        else:
            by_index[index] = entry
            held.add(leaf)
    for i, expected in enumerate(leaves):
        entry = by_index.get(i)
        if entry is None:
            if expected not in held:
                audit.findings.append(Finding("missing", i, None, "no receipt holds this log entry"))
            continue
        _, rid, _, _, leaf, status = entry
        if status == "redacted" or leaf == expected:
            continue
        if leaf in position:
            audit.findings.append(Finding("reordered", i, rid, f"is the log's entry {position[leaf]}"))
        elif expected in held:
            audit.findings.append(
                Finding("inserted", i, rid, "is in no log entry; this entry's receipt moved")
            )
        else:
            audit.findings.append(
                Finding("changed", i, rid, f"does not match its log entry ({status} signature)")
            )


def _chunks(size: int) -> list[tuple[int | None, int | None]]:
    """Index ranges covering every receipt: the log in ``CHUNK``s, beyond it, and not in it yet."""
    return [(b, min(b + CHUNK, size)) for b in range(0, size, CHUNK)] + [(size, None), (None, None)]


def _results(
    scan: Callable[[tuple[int | None, int | None]], list[Checked]],
    chunks: list[tuple[int | None, int | None]],
    workers: int,
    meanwhile: Callable[[], None],
) -> Iterator[list[Checked]]:
    """Each chunk's checked receipts, in any order; ``meanwhile`` runs here while workers scan."""
    if workers == 1:
        meanwhile()
        yield from map(scan, chunks)
        return
    connections.close_all()  # never share a socket with the forked workers
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init)
    try:
        results = pool.imap_unordered(scan, chunks)
        meanwhile()
        yield from results
    except BaseException:
        pool.terminate()
        raise
    pool.close()
    pool.join()


def log_audit(
    *,
    tenant_id: str,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LogAudit:
    """Verify one tenant's receipts and log (module docstring). ``workers``: processes checking
    receipts (default: 1 below ``PARALLEL_FROM`` receipts, else the CPU count, at most
    ``MAX_WORKERS``); ``progress(done, total)`` is called after each chunk, ``total`` being the log
    size (``done`` may pass it by receipts not in the log yet)."""
    audit = LogAudit(tenant_id=tenant_id, log_size=log_size(tenant_id=tenant_id))
    keys = {kid: b64url_decode(key) for kid, key in ReceiptKey.objects.values_list("kid", "public_key")}
    size = audit.log_size
    if workers is None:
        workers = 1 if size < PARALLEL_FROM else max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    leaves: list[bytes] = []

    def read_log() -> None:  # the log itself, while the workers check receipts
        leaves.extend(_leaves(tenant_id, _heads(tenant_id, keys, audit), audit))

    checked: list[Checked] = []
    for part in _results(partial(_scan, tenant_id, keys), _chunks(size), workers, read_log):
        checked.extend(part)
        if progress is not None:
            progress(len(checked), size)
    audit.receipts = len(checked)
    audit.valid = sum(1 for entry in checked if entry[5] == "valid")
    audit.redacted = sum(1 for entry in checked if entry[5] == "redacted")
    _compare(leaves, checked, audit)
    return audit
