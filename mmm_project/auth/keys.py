"""Keys for bearer tokens: the verification key set and, for ``mint_token``, the signing key.

Production: ``JWT_JWKS`` holds a JSON Web Key Set (RFC 7517) with the IAM's public keys; rotated
keys stay in the set under their own ``kid``. Embedded default (``JWT_JWKS`` unset): an Ed25519
key (RFC 8037) is generated once under ``LOCAL_STATE_DIR/keys`` and reused on later runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from mmm_project.local_state import local_secret

LOCAL_KEY_FILE = "jwt-ed25519.pem"


@dataclass(frozen=True)
class SigningKey:
    """A private key with its ``kid`` and JWS algorithm, for minting local tokens."""

    kid: str
    algorithm: str
    key: object


def _text_or_file(value: str) -> str:
    """Settings may hold the material itself or a path to a file holding it."""
    stripped = value.strip()
    if stripped.startswith(("{", "-----")):
        return stripped
    return Path(stripped).read_text()


def _kid_for(public_raw: bytes) -> str:
    return "local-" + hashlib.sha256(public_raw).hexdigest()[:16]


def _new_private_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _local_private_key(state_dir: Path) -> Ed25519PrivateKey:
    """Load the embedded default's Ed25519 key, generating it (mode 0600) on first use."""
    key = serialization.load_pem_private_key(
        local_secret(state_dir, LOCAL_KEY_FILE, _new_private_key), password=None
    )
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _public_jwk(private_key: Ed25519PrivateKey) -> dict[str, str]:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": _kid_for(raw), "alg": "EdDSA", "use": "sig"}


@lru_cache(maxsize=8)
def _load_key_set(jwks_setting: str, state_dir: str) -> dict[str, jwt.PyJWK]:
    if jwks_setting:
        document = json.loads(_text_or_file(jwks_setting))
    else:
        document = {"keys": [_public_jwk(_local_private_key(Path(state_dir)))]}
    key_set = jwt.PyJWKSet.from_dict(document)
    return {jwk.key_id or "": jwk for jwk in key_set.keys}


def verification_keys() -> dict[str, jwt.PyJWK]:
    """Return the accepted public keys by ``kid`` (``""`` for a key without one).

    Raises:
        jwt.PyJWKSetError, ValueError, OSError: when ``JWT_JWKS`` cannot be read or parsed.
    """
    return _load_key_set(settings.JWT_JWKS, str(settings.LOCAL_STATE_DIR))


def signing_key() -> SigningKey | None:
    """Return the embedded default's signing key for ``mint_token``, or None in production.

    Tokens are minted locally only while ``JWT_JWKS`` is unset; with a configured key set the
    IAM issues tokens and this service holds no private key.
    """
    if settings.JWT_JWKS:
        return None
    private_key = _local_private_key(Path(settings.LOCAL_STATE_DIR))
    return SigningKey(kid=_public_jwk(private_key)["kid"], algorithm="EdDSA", key=private_key)
