"""RFC 9162 audit paths: which subtrees an inclusion or consistency proof holds, and verification.

Generation is in two steps so that a store fetches only what it needs: ``inclusion_ranges`` /
``consistency_ranges`` give the leaf ranges whose hashes make the proof (in proof order), and
``tree.perfect_subtrees`` the stored nodes each range is made of. Verification follows RFC 9162
sections 2.1.3.2 and 2.1.4.2 step by step. No Django here (the offline verifier uses it).
"""

from __future__ import annotations

from receipts.ledger.hashing import HASH_SIZE, node_hash
from receipts.ledger.tree import largest_power_of_two_below

Range = tuple[int, int]  # leaves [begin, end)


class ProofError(ValueError):
    """A proof that does not verify, or a request no proof can answer (bad index or sizes)."""


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"every hash is {HASH_SIZE} bytes")


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges ``PATH(index, D[0:size])`` hashes, leaf side first (RFC 9162 2.1.3.1).

    Raises ProofError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    begin, end = 0, size
    while end - begin > 1:
        k = largest_power_of_two_below(end - begin)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges ``PROOF(first, D[0:second])`` hashes (RFC 9162 2.1.4.1); empty when equal.

    Raises ProofError unless ``0 < first <= second``.
    """
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[Range] = []
    begin, end, m, whole = 0, second, first, True
    while m != end - begin:
        k = largest_power_of_two_below(end - begin)
        if m <= k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin, m, whole = begin + k, m - k, False
    if not whole:
        ranges.append((begin, end))
    return ranges[::-1]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root that ``path`` proves ``leaf`` at ``index`` into (RFC 9162 2.1.3.2 steps 1-6).

    Raises ProofError if the path has the wrong length for ``index`` and ``size``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hashes(leaf, *path)
    fn, sn, root = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("inclusion path too long")
        if fn & 1 or fn == sn:
            root = node_hash(sibling, root)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            root = node_hash(root, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion path too short")
    return root


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    """Check that ``leaf`` is entry ``index`` of the tree of ``size`` with ``root`` (else ProofError)."""
    _check_hashes(root)
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError("inclusion path does not lead to the tree head's root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> None:
    """Check that the tree of ``second`` leaves extends the one of ``first`` (RFC 9162 2.1.4.2).

    Raises ProofError if it does not, or if the sizes or the proof's length are impossible.
    """
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first == second:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if first_root != second_root:
            raise ProofError("trees of equal size with different roots")
        return
    _check_hashes(first_root, second_root, *proof)
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not match the tree heads' roots")
