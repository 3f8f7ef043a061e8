"""One stored receipt checked: its signed bytes recovered, its Ed25519 signature, its leaf hash.

A receipt row keeps its signed body as ``jsonb`` (key order and number spelling are not kept), so
the signed bytes, the RFC 8785 form of the body, are made again from the stored value. RFC 8785
in Python (``rfc8785``) costs ~2 ms for a 1.6 kB decision receipt, thirty times an Ed25519 check,
so a fast form is tried first: ``orjson`` with sorted keys (compact, the same string escapes for
the text receipts hold), with a float that is a whole number spelt as ES6 does (``0.0`` -> ``0``:
every decision receipt has a ``risk_score``). If the signature verifies over the fast bytes, they
*are* the signed bytes (anything else would be a forged signature); if not, RFC 8785 decides, so
a body the fast form spells differently (an exponent, a key beyond the BMP) is still checked
exactly. Either way every signature is verified and every leaf hashed over the bytes it covers.
No Django here.
"""

from __future__ import annotations

import base64
from itertools import pairwise
from typing import Any

import orjson
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from receipts.canonical import canonical_bytes
from receipts.ledger.hashing import leaf_hash

_WHOLE = b".0"
_NUMBER_ENDS = (b",", b"]", b"}")


def fast_form(payload: Any) -> bytes:
    """The RFC 8785 bytes of ``payload`` for the usual receipt, quickly (``b""`` if orjson cannot
    write it, e.g. an integer beyond 64 bits); may differ from RFC 8785 in rare cases, which the
    signature check then tells (module docstring)."""
    try:
        data = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except (TypeError, ValueError):  # orjson.JSONEncodeError
        return b""
    if _WHOLE not in data:
        return data
    # orjson writes a whole float as "1.0", ES6 (so RFC 8785) as "1": drop ".0" after a digit
    # where a number token ends. A string holding such text is changed too; its signature then
    # fails over these bytes and RFC 8785 decides.
    pieces = data.split(_WHOLE)
    out = [pieces[0]]
    for before, piece in pairwise(pieces):
        if not (before[-1:].isdigit() and piece[:1] in _NUMBER_ENDS):
            out.append(_WHOLE)
        out.append(piece)
    return b"".join(out)


def signature_valid(public_key: bytes | None, message: bytes, signature: str) -> bool:
    """Ed25519 check of ``signature`` (base64url) over ``message`` with a raw 32-byte key."""
    if public_key is None:
        return False
    try:
        # libsodium's check of signature || message (VerifyKey.verify, less its Python overhead)
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        crypto_sign_open(raw + message, public_key)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def check_receipt(
    keys: dict[str, bytes], payload: Any, signature: str, kid: str, redacted: bool
) -> tuple[bytes, str]:
    """``(leaf hash, status)`` of one stored receipt; status ``valid``, ``invalid`` or ``redacted``.

    ``keys``: raw Ed25519 public keys by ``kid``. A redacted receipt (its actor id replaced after
    its signature verified) cannot be checked: its leaf is over the stored body, for the count.
    """
    key = keys.get(kid)
    if not redacted:
        fast = fast_form(payload)
        if fast and signature_valid(key, fast, signature):
            return leaf_hash(fast), "valid"  # verified: these are exactly the signed bytes
    try:
        data = canonical_bytes(payload)
    except Exception:  # noqa: BLE001 - a tampered body JSON cannot canonicalise: it matches nothing
        data = b"\xff" + repr(payload).encode()
    if redacted:
        return leaf_hash(data), "redacted"
    return leaf_hash(data), "valid" if signature_valid(key, data, signature) else "invalid"
