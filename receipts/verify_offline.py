"""Check a receipt, a signed tree head and RFC 9162 proofs offline: no database, no Django.

An auditor given a receipt needs only the key set (``GET /v1/mmm/receipts/keys``), a signed tree
head (``GET /v1/mmm/receipts/log/{tenant}/head``, or from ERIS) and the receipt's inclusion proof
(``.../proof/inclusion?receipt_id=``); to check that a later head extends an earlier one, both
heads and ``.../proof/consistency?first=&second=``. Usage::

    python -m receipts.verify_offline --jwks keys.json --head head.json \\
        [--receipt receipt.json --inclusion inclusion.json] \\
        [--old-head old-head.json --consistency consistency.json]

Prints one line per check and exits 0 only if every check passes. Needs Python with ``PyNaCl``
and ``rfc8785``; the functions below can be called directly too.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from receipts.canonical import canonical_bytes
from receipts.ledger.hashing import receipt_leaf_hash
from receipts.ledger.proofs import ProofError, verify_consistency, verify_inclusion


class VerificationError(Exception):
    """A signature, a proof or a document that does not check out (the message says which)."""


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_signed(jwks: dict[str, Any], document: dict[str, Any]) -> str:
    """Check a signed document (receipt or tree head): Ed25519 over the RFC 8785 form of the
    document without ``signature``, by the JWKS key named by ``signature.kid``. Returns the kid."""
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(signature, dict) or signature.get("algorithm") != "Ed25519":
        raise VerificationError("no Ed25519 signature object")
    kid = signature.get("kid")
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid and k.get("crv") == "Ed25519"]
    if not keys:
        raise VerificationError(f"key {kid!r} is not in the key set")
    body = {key: value for key, value in document.items() if key != "signature"}
    try:
        VerifyKey(_b64url(keys[0]["x"])).verify(canonical_bytes(body), _b64url(str(signature.get("value"))))
    except (BadSignatureError, ValueError, TypeError) as exc:
        raise VerificationError(f"signature by {kid} does not match") from exc
    return str(kid)


def _hex(value: Any, what: str) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as exc:
        raise VerificationError(f"{what} is not hex") from exc


def verify_head(jwks: dict[str, Any], head: dict[str, Any]) -> None:
    """Check a signed tree head's signature and shape."""
    if head.get("kind") != "tree_head" or not isinstance(head.get("tree_size"), int):
        raise VerificationError("not a tree head")
    verify_signed(jwks, head)


def verify_receipt_inclusion(
    jwks: dict[str, Any], head: dict[str, Any], receipt: dict[str, Any], proof: dict[str, Any]
) -> int:
    """Check the receipt's signature and that it is in the tree of the (verified) head; returns
    its leaf index."""
    verify_head(jwks, head)
    verify_signed(jwks, receipt)
    if receipt.get("tenant_id") != head.get("tenant_id"):
        raise VerificationError("the receipt and the head are of different tenants")
    leaf = receipt_leaf_hash(receipt)
    if "leaf_hash" in proof and _hex(proof["leaf_hash"], "leaf_hash") != leaf:
        raise VerificationError("the proof is for another receipt (leaf hash differs)")
    if proof.get("tree_size") != head["tree_size"]:
        raise VerificationError(
            f"the proof is for size {proof.get('tree_size')}, the head is {head['tree_size']}"
        )
    path = [_hex(h, "audit_path") for h in proof.get("audit_path", [])]
    try:
        verify_inclusion(
            int(proof["leaf_index"]), head["tree_size"], leaf, path, _hex(head["root_hash"], "root")
        )
    except (ProofError, KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"inclusion proof fails: {exc}") from exc
    return int(proof["leaf_index"])


def verify_head_consistency(
    jwks: dict[str, Any], old_head: dict[str, Any], head: dict[str, Any], proof: dict[str, Any]
) -> None:
    """Check both heads and that the newer tree extends the older one (append-only)."""
    verify_head(jwks, old_head)
    verify_head(jwks, head)
    if old_head.get("tenant_id") != head.get("tenant_id"):
        raise VerificationError("the heads are of different tenants")
    first, second = old_head["tree_size"], head["tree_size"]
    if (proof.get("first"), proof.get("second")) != (first, second):
        raise VerificationError(f"the proof is from {proof.get('first')} to {proof.get('second')}")
    path = [_hex(h, "consistency_path") for h in proof.get("consistency_path", [])]
    try:
        verify_consistency(
            first, second, _hex(old_head["root_hash"], "root"), _hex(head["root_hash"], "root"), path
        )
    except ProofError as exc:
        raise VerificationError(f"consistency proof fails: {exc}") from exc


def _load(path: str | None) -> Any:
    return json.loads(Path(path).read_text()) if path else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m receipts.verify_offline", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--jwks", required=True, help="the key set (GET /v1/mmm/receipts/keys)")
    parser.add_argument("--head", required=True, help="a signed tree head")
    parser.add_argument("--receipt", help="a receipt document (as sent to ERIS)")
    parser.add_argument("--inclusion", help="its inclusion proof (in the head's tree)")
    parser.add_argument("--old-head", help="an earlier signed tree head")
    parser.add_argument("--consistency", help="the consistency proof from the earlier head to --head")
    args = parser.parse_args(argv)
    if bool(args.receipt) != bool(args.inclusion) or bool(args.old_head) != bool(args.consistency):
        parser.error("--receipt goes with --inclusion, --old-head with --consistency")
    jwks, head = _load(args.jwks), _load(args.head)
    checks = [("tree head", lambda: verify_head(jwks, head))]
    if args.receipt:
        receipt, proof = _load(args.receipt), _load(args.inclusion)
        checks.append(("receipt in the tree", lambda: verify_receipt_inclusion(jwks, head, receipt, proof)))
    if args.old_head:
        old, proof_c = _load(args.old_head), _load(args.consistency)
        checks.append(("earlier head extended", lambda: verify_head_consistency(jwks, old, head, proof_c)))
    failed = 0
    for name, check in checks:
        try:
            result = check()
        except (VerificationError, KeyError, TypeError, ValueError) as exc:
            failed += 1
            print(f"FAIL {name}: {exc}")
        else:
            extra = f" (index {result})" if isinstance(result, int) else ""
            print(f"ok   {name}{extra}: size {head.get('tree_size')}, root {head.get('root_hash')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
