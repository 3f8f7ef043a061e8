"""Bearer JWT verification and local minting (RFC 7519; EdDSA per RFC 8037, RS256 per RFC 7518).

Claims: ``sub`` (actor id), ``tenant_id``, ``actor_type`` (human|ai_agent, default human),
``roles`` (list of strings), ``scope`` (space-separated string, RFC 8693 section 4.2, or a list),
``exp`` (required), and ``iss``/``aud`` when ``JWT_ISSUER``/``JWT_AUDIENCE`` are set.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt
from django.conf import settings

from mmm_project.auth.keys import signing_key, verification_keys
from mmm_project.auth.principal import ACTOR_TYPES, Principal

ASYMMETRIC_ALGORITHMS = frozenset({"EdDSA", "RS256"})


class TokenError(Exception):
    """A token was refused. ``code`` is ``TOKEN_EXPIRED`` or ``INVALID_TOKEN``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _key_for(header: dict[str, Any]) -> tuple[Any, str]:
    """Pick the verification key and the one algorithm it may be used with."""
    algorithm = header.get("alg")
    if algorithm == "HS256":
        # Shared secrets are for local experiments only; never accepted in production.
        if settings.DEBUG and settings.JWT_HS256_SECRET:
            return settings.JWT_HS256_SECRET, "HS256"
        raise TokenError("INVALID_TOKEN", "Token algorithm HS256 is not accepted.")
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise TokenError("INVALID_TOKEN", "Token algorithm is not accepted.")
    keys = verification_keys()
    kid = header.get("kid")
    if kid is None and len(keys) == 1:
        jwk = next(iter(keys.values()))
    elif kid in keys:
        jwk = keys[kid]
    else:
        raise TokenError("INVALID_TOKEN", "Token key id is unknown.")
    # The key fixes the algorithm: a token cannot choose a weaker one for the same key.
    if jwk.algorithm_name != algorithm:
        raise TokenError("INVALID_TOKEN", "Token algorithm does not match its key.")
    return jwk.key, algorithm


def _string_list(value: Any, claim: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise TokenError("INVALID_TOKEN", f"Token claim '{claim}' must be a string or a list of strings.")


def decode_token(token: str) -> Principal:
    """Verify a bearer token and return its Principal.

    Raises:
        TokenError: ``TOKEN_EXPIRED`` past ``exp`` (with ``JWT_LEEWAY_SECONDS`` of leeway),
            ``INVALID_TOKEN`` for a bad signature, unknown key, disallowed algorithm, malformed
            token, or a missing/ill-typed ``sub``, ``tenant_id``, ``actor_type`` or ``roles``.
    """
    try:
        header = jwt.get_unverified_header(token)
        key, algorithm = _key_for(header)
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=settings.JWT_AUDIENCE or None,
            issuer=settings.JWT_ISSUER or None,
            leeway=settings.JWT_LEEWAY_SECONDS,
            options={
                "require": ["exp", "sub"],
                "verify_aud": bool(settings.JWT_AUDIENCE),
                "verify_iss": bool(settings.JWT_ISSUER),
            },
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("TOKEN_EXPIRED", "Token has expired.") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenError("INVALID_TOKEN", "Token signature is invalid.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("INVALID_TOKEN", f"Token claim '{exc.claim}' is required.") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("INVALID_TOKEN", "Token is malformed or not valid.") from exc

    return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build the Principal from verified claims (local JWT or the IAM's ``/v1/iam/verify``).

    Raises:
        TokenError: ``INVALID_TOKEN`` for a missing or ill-typed ``sub``, ``tenant_id``,
            ``actor_type``, ``roles`` or ``scope``.
    """
    tenant_id = claims.get("tenant_id")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise TokenError("INVALID_TOKEN", "Token claim 'tenant_id' is required.")
    actor_id = claims.get("sub")
    if not isinstance(actor_id, str) or not actor_id:
        raise TokenError("INVALID_TOKEN", "Token claim 'sub' must be a non-empty string.")
    actor_type = claims.get("actor_type", "human")
    if actor_type not in ACTOR_TYPES:
        raise TokenError("INVALID_TOKEN", "Token claim 'actor_type' must be human or ai_agent.")
    return Principal(
        actor_id=actor_id,
        tenant_id=tenant_id,
        actor_type=actor_type,
        roles=_string_list(claims.get("roles"), "roles"),
        scopes=_string_list(claims.get("scope"), "scope"),
    )


def mint_token(
    *,
    tenant_id: str,
    actor_id: str,
    actor_type: str = "human",
    roles: Iterable[str] = (),
    scopes: Iterable[str] = (),
    ttl_seconds: int = 3600,
) -> str:
    """Sign a token with the embedded default's local key (for local use and the demo).

    Raises:
        ValueError: ``actor_type`` unknown or ``ttl_seconds`` not positive.
        RuntimeError: ``JWT_JWKS`` is configured, so tokens must come from the IAM.
    """
    if actor_type not in ACTOR_TYPES:
        raise ValueError("actor_type must be human or ai_agent")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    key = signing_key()
    if key is None:
        raise RuntimeError("JWT_JWKS is set: tokens are issued by the IAM, not minted locally.")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": actor_id,
        "tenant_id": tenant_id,
        "actor_type": actor_type,
        "roles": sorted(set(roles)),
        "scope": " ".join(sorted(set(scopes))),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.JWT_ISSUER:
        claims["iss"] = settings.JWT_ISSUER
    if settings.JWT_AUDIENCE:
        claims["aud"] = settings.JWT_AUDIENCE
    return jwt.encode(claims, key.key, algorithm=key.algorithm, headers={"kid": key.kid})
