"""The right edge of a Merkle tree (a compact range) and subtree decomposition (RFC 9162 2.1).

A tree of ``size`` leaves is, left to right, one perfect subtree per set bit of ``size`` (largest
first); their roots are the tree's *frontier*. Appending a leaf merges equal-sized subtrees from
the right, so an append costs O(log n) hashes and reports each node it completes: the log stores
those ``(level, index)`` nodes and answers proofs from them. Node ``(level, index)`` covers
leaves ``[index * 2**level, (index + 1) * 2**level)``. No Django here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from receipts.ledger.hashing import EMPTY_ROOT, HASH_SIZE, node_hash

NodeId = tuple[int, int]  # (level, index)


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's split ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[NodeId]:
    """The perfect aligned subtrees covering leaves ``[begin, end)``, left to right.

    For every range that RFC 9162's recursion produces (``begin`` a multiple of a power of two
    at least ``end - begin``), ``subtree_hash`` of these nodes is ``MTH(D[begin:end])``.
    """
    nodes: list[NodeId] = []
    while begin < end:
        level = (begin & -begin).bit_length() - 1 if begin else (end - begin).bit_length()
        while (1 << level) > end - begin:
            level -= 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    """The root over perfect subtree roots given left to right (largest first)."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def subtree_hash(begin: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """``MTH(D[begin:end])`` from stored perfect subtree roots (``KeyError`` if one is missing)."""
    return fold([nodes[node] for node in perfect_subtrees(begin, end)])


@dataclass
class CompactRange:
    """The frontier of a tree of ``size`` leaves: one hash per set bit of ``size``, largest first."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, size: int, frontier: bytes) -> CompactRange:
        """Load a frontier stored as its hashes concatenated (``to_bytes``)."""
        hashes = [bytes(frontier[i : i + HASH_SIZE]) for i in range(0, len(frontier), HASH_SIZE)]
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a frontier of a {size}-leaf tree has {size.bit_count()} hashes, not {len(hashes)}"
            )
        return cls(size=size, hashes=hashes)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the nodes it completes as ``(level, index, hash)``, leaf first."""
        index = self.size
        created = [(0, index, leaf)]
        current, level, remaining = leaf, 0, index
        while remaining & 1:  # a subtree of this height waits on the left: merge with it
            current = node_hash(self.hashes.pop(), current)
            level, remaining = level + 1, remaining >> 1
            created.append((level, index >> level, current))
        self.hashes.append(current)
        self.size += 1
        return created

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        created: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            created.extend(self.append(leaf))
        return created

    def root(self) -> bytes:
        """The Merkle tree hash of the ``size`` leaves appended so far (RFC 9162 2.1.1)."""
        return fold(self.hashes)


def root_of(leaves: Iterable[bytes]) -> bytes:
    """``MTH`` of a list of leaf hashes."""
    tree = CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()
