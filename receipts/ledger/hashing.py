"""RFC 9162 (section 2.1.1) Merkle tree hashing with SHA-256, and a receipt's leaf.

``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``, and the
root of the empty tree is ``SHA-256()``. A receipt's leaf data is the RFC 8785 canonical form of
its signed body, exactly the bytes its Ed25519 signature covers, so an auditor holding a receipt
document recomputes its leaf from the document alone. No Django here.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any

from receipts.canonical import canonical_bytes

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry (32 bytes)."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: an interior node over two 32-byte child hashes."""
    return sha256(_NODE_PREFIX + left + right).digest()


def receipt_leaf_data(body: dict[str, Any]) -> bytes:
    """A receipt's leaf data: the canonical bytes of its signed body (without ``signature``)."""
    return canonical_bytes({key: value for key, value in body.items() if key != "signature"})


def receipt_leaf_hash(body: dict[str, Any]) -> bytes:
    """The leaf hash of a receipt, from its signed body or its document as sent to ERIS."""
    return leaf_hash(receipt_leaf_data(body))
