"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) and digests of receipts."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_bytes(document: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 form of ``document`` (sorted keys, no whitespace, ES6 numbers).

    Raises:
        rfc8785.CanonicalizationError: values JSON cannot carry (NaN, integers beyond 2**53...).
    """
    return rfc8785.dumps(document)


def sha256_digest(document: Any) -> str:
    """``"sha256:<hex>"`` of the canonical form."""
    return "sha256:" + hashlib.sha256(canonical_bytes(document)).hexdigest()
