"""RFC 9162 hashing, tree heads and proofs against published test vectors.

Sources (copied, not generated here):
- Leaf inputs, node hashes and roots of the 8-leaf reference tree: transparency-dev/merkle
  ``testonly/constants.go`` (Apache-2.0), the tree of RFC 6962's examples used by Certificate
  Transparency (google/certificate-transparency ``merkle_tree_test.cc``).
- Hasher vectors: transparency-dev/merkle ``rfc6962/rfc6962_test.go``.
- Inclusion and consistency proof probes, good and tampered: transparency-dev/merkle
  ``testdata/inclusion`` and ``testdata/consistency`` (one JSON file each, gathered unchanged into
  ``rfc6962_probes.json``; the commit is in its ``source`` field).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from receipts.ledger.hashing import EMPTY_ROOT, leaf_hash, node_hash
from receipts.ledger.proofs import (
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    verify_consistency,
    verify_inclusion,
)
from receipts.ledger.tree import CompactRange, root_of, subtree_hash

PROBES = json.loads((Path(__file__).parent / "rfc6962_probes.json").read_text())

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]


def _b64(values):
    return [base64.b64decode(v) for v in values or []]


def _nodes(size: int) -> dict[tuple[int, int], bytes]:
    """Every node the log would store for the first ``size`` reference leaves."""
    tree = CompactRange()
    return {(level, index): h for level, index, h in tree.extend(LEAVES[:size])}


def test_the_hasher_matches_rfc6962_vectors():
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_prefix_match_the_reference_tree(size):
    assert root_of(LEAVES[:size]).hex() == ROOTS[size]
    # and a frontier saved and loaded keeps growing to the same roots
    tree = CompactRange()
    tree.extend(LEAVES[:size])
    reloaded = CompactRange.from_bytes(size, tree.to_bytes())
    reloaded.extend(LEAVES[size:])
    assert reloaded.root().hex() == ROOTS[8]


def test_appending_stores_exactly_the_reference_nodes():
    stored = _nodes(8)
    expected = {
        (level, i): bytes.fromhex(h) for level, row in enumerate(NODE_HASHES) for i, h in enumerate(row)
    }
    assert stored == expected


def test_a_frontier_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        CompactRange.from_bytes(3, LEAVES[0])


@pytest.mark.parametrize("name", sorted(PROBES["inclusion"]))
def test_inclusion_probes(name):
    probe = PROBES["inclusion"][name]
    args = (
        probe["leafIdx"],
        probe["treeSize"],
        base64.b64decode(probe.get("leafHash") or ""),
        _b64(probe["proof"]),
        base64.b64decode(probe.get("root") or ""),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("name", sorted(PROBES["consistency"]))
def test_consistency_probes(name):
    probe = PROBES["consistency"][name]
    args = (
        probe["size1"],
        probe["size2"],
        base64.b64decode(probe.get("root1") or ""),
        base64.b64decode(probe.get("root2") or ""),
        _b64(probe["proof"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _happy(kind):
    return [p for p in PROBES[kind].values() if p["desc"] == "happy path" and p.get("proof")]


@pytest.mark.parametrize("probe", _happy("inclusion"), ids=lambda p: f"{p['leafIdx']}-of-{p['treeSize']}")
def test_generated_inclusion_paths_equal_the_published_ones(probe):
    nodes = _nodes(8)
    path = [subtree_hash(b, e, nodes) for b, e in inclusion_ranges(probe["leafIdx"], probe["treeSize"])]
    assert path == _b64(probe["proof"])


@pytest.mark.parametrize("probe", _happy("consistency"), ids=lambda p: f"{p['size1']}-to-{p['size2']}")
def test_generated_consistency_proofs_equal_the_published_ones(probe):
    nodes = _nodes(8)
    proof = [subtree_hash(b, e, nodes) for b, e in consistency_ranges(probe["size1"], probe["size2"])]
    assert proof == _b64(probe["proof"])


def test_every_generated_proof_in_trees_up_to_70_leaves_verifies():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(70)]
    nodes = _nodes_of(leaves)
    roots = [root_of(leaves[:n]) for n in range(71)]
    for size in range(1, 71):
        for index in range(size):
            path = [subtree_hash(b, e, nodes) for b, e in inclusion_ranges(index, size)]
            verify_inclusion(index, size, leaves[index], path, roots[size])
            with pytest.raises(ProofError):
                verify_inclusion(index, size, leaves[(index + 1) % 70], path, roots[size])
        for first in range(1, size + 1):
            proof = [subtree_hash(b, e, nodes) for b, e in consistency_ranges(first, size)]
            verify_consistency(first, size, roots[first], roots[size], proof)
            if first < size:
                with pytest.raises(ProofError):
                    verify_consistency(
                        first, size, roots[first - 1] if first > 1 else roots[2], roots[size], proof
                    )


def _nodes_of(leaves):
    return {(level, index): h for level, index, h in CompactRange().extend(leaves)}


def test_impossible_requests_are_proof_errors():
    for index, size in ((0, 0), (3, 3), (-1, 4)):
        with pytest.raises(ProofError):
            inclusion_ranges(index, size)
    for first, second in ((0, 4), (5, 4)):
        with pytest.raises(ProofError):
            consistency_ranges(first, second)
