"""Ed25519 signing and verification of receipts (FR-12; RFC 8032 signatures, RFC 8037 keys).

The signing key is a 32-byte seed: ``RECEIPT_SIGNING_KEY`` (base64) in production; in the
embedded default one is generated under ``LOCAL_STATE_DIR/keys`` on first use and reused. The
key id (``kid``) is derived from the public key. Each key's public half is registered in
``mmm_receipt_keys`` the first time it signs, so a rotated-out key keeps verifying old receipts.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from mmm_project.local_state import local_secret
from mmm_project.residency import current_alias, each_region, tenant_on_commit
from receipts.canonical import canonical_bytes
from receipts.models import ReceiptKey

LOCAL_SEED_FILE = "receipt-ed25519.seed"
ALGORITHM = "Ed25519"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def kid_for(public_key: bytes) -> str:
    """The key id: ``mmm-`` and the first 16 hex digits of SHA-256 of the raw public key."""
    return "mmm-" + hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class ReceiptSigner:
    kid: str
    key: SigningKey

    @property
    def public_key(self) -> bytes:
        return bytes(self.key.verify_key)


def _local_seed(state_dir: Path) -> bytes:
    raw = local_secret(state_dir, LOCAL_SEED_FILE, lambda: base64.b64encode(os.urandom(32)))
    return base64.b64decode(raw.strip())


@lru_cache(maxsize=4)
def _signer(seed_setting: str, state_dir: str) -> ReceiptSigner:
    seed = base64.b64decode(seed_setting) if seed_setting else _local_seed(Path(state_dir))
    if len(seed) != 32:
        raise ValueError("RECEIPT_SIGNING_KEY must be a base64-encoded 32-byte Ed25519 seed")
    key = SigningKey(seed)
    signer = ReceiptSigner(kid=kid_for(bytes(key.verify_key)), key=key)
    return signer


# (region, key id) known to be stored in mmm_receipt_keys, to skip the lookup on the decide path.
# Each region keeps its own key set (NFR-3): its receipts verify from its own database.
_registered: set[tuple[str, str]] = set()


def current_signer() -> ReceiptSigner:
    """The key receipts are signed with now, registered in ``mmm_receipt_keys`` on first use.

    The registration joins the caller's transaction; the key id is remembered only once that
    commits, so a rolled-back first receipt cannot leave a key that signs but is not stored.
    """
    signer = _signer(settings.RECEIPT_SIGNING_KEY, str(settings.LOCAL_STATE_DIR))
    known = (current_alias(), signer.kid)
    if known not in _registered:
        ReceiptKey.objects.get_or_create(kid=signer.kid, defaults={"public_key": b64url(signer.public_key)})
        tenant_on_commit(lambda: _registered.add(known))
    return signer


def sign(body: dict[str, Any]) -> tuple[str, str]:
    """Sign the canonical form of ``body``; return ``(signature base64url, kid)``."""
    signature, kid, _ = sign_canonical(body)
    return signature, kid


def sign_canonical(body: dict[str, Any]) -> tuple[str, str, bytes]:
    """``sign``, also returning the signed bytes (the RFC 8785 form of ``body``)."""
    signer = current_signer()
    message = canonical_bytes(body)
    return b64url(signer.key.sign(message).signature), signer.kid, message


@dataclass(frozen=True)
class Verification:
    valid: bool
    kid: str | None
    reason: str  # "ok", or why not


def verify(body: dict[str, Any], *, signature: str, kid: str) -> Verification:
    """Check ``signature`` over the canonical form of ``body`` with the registered key ``kid``."""
    key = ReceiptKey.objects.filter(kid=kid).first()
    if key is None:
        return Verification(False, kid, "unknown key id")
    try:
        VerifyKey(b64url_decode(key.public_key)).verify(canonical_bytes(body), b64url_decode(signature))
    except (BadSignatureError, ValueError, TypeError):
        return Verification(False, kid, "signature does not match the receipt")
    return Verification(True, kid, "ok")


def verify_document(document: Any) -> Verification:
    """Verify a receipt as sent to ERIS: its body plus ``{"signature": {"algorithm", "kid", "value"}}``."""
    if not isinstance(document, dict) or not isinstance(document.get("signature"), dict):
        return Verification(False, None, "no signature object")
    signature = document["signature"]
    if signature.get("algorithm") != ALGORITHM:
        return Verification(False, signature.get("kid"), "unsupported signature algorithm")
    if not isinstance(signature.get("kid"), str) or not isinstance(signature.get("value"), str):
        return Verification(False, None, "signature needs kid and value strings")
    body = {key: value for key, value in document.items() if key != "signature"}
    return verify(body, signature=signature["value"], kid=signature["kid"])


def public_jwks() -> dict[str, Any]:
    """Every registered key as a JWKS (RFC 7517) of OKP/Ed25519 keys (RFC 8037), from every region
    (each keeps its own key set, NFR-3; public keys are no tenant's data)."""
    found: dict[str, ReceiptKey] = {}
    for _ in each_region():
        current_signer()  # make sure the current key is published even before it first signs
        for key in ReceiptKey.objects.order_by("created_at"):
            found.setdefault(key.kid, key)
    return {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": k.public_key, "kid": k.kid, "alg": "EdDSA", "use": "sig"}
            for k in sorted(found.values(), key=lambda k: k.created_at)
        ]
    }
