"""DRF authentication: ``Authorization: Bearer <JWT>`` verified locally (embedded IAM default)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from mmm_project.auth.principal import Principal
from mmm_project.auth.tokens import TokenError, decode_token, principal_from_claims
from mmm_project.clients import PeerRejected, PeerUnavailable, iam
from mmm_project.errors import ApplicationError
from mmm_project.residency import activate_tenant

IAM_CACHE_MAX_SECONDS = 60  # verification results live at most this long, and never past exp


class TokenRejected(exceptions.AuthenticationFailed):
    """401 carrying the token error's stable code (``TOKEN_EXPIRED``, ``INVALID_TOKEN``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.mmm_code = code


def iam_principal(token: str) -> Principal:
    """Verify through the IAM (spec 12.8), cached by the token's hash for min(60 s, life left).

    Raises:
        TokenError: the IAM says the token is not valid.
        ApplicationError: ``IAM_UNAVAILABLE`` (503): without the IAM nobody can be authenticated
            (NFR-6).
    """
    key = "iam:verify:" + hashlib.sha256(token.encode()).hexdigest()
    claims = cache.get(key)
    if claims is None:
        try:
            claims = iam.verify(token)
        except (PeerUnavailable, PeerRejected) as exc:
            raise ApplicationError(
                "IAM_UNAVAILABLE", "The identity service is unavailable.", status_code=503
            ) from exc
        if claims is None:
            raise TokenError("INVALID_TOKEN", "The identity service refused the token.")
        exp = claims.get("exp")
        ttl = (
            IAM_CACHE_MAX_SECONDS
            if not isinstance(exp, int | float)
            else min(IAM_CACHE_MAX_SECONDS, exp - time.time())
        )
        if ttl <= 0:
            raise TokenError("TOKEN_EXPIRED", "Token has expired.")
        cache.set(key, claims, timeout=int(ttl) or 1)
    return principal_from_claims(claims)


class BearerJWTAuthentication(BaseAuthentication):
    """Authenticate a request from its bearer token; the Principal becomes ``request.user``.

    No ``Authorization`` header: not authenticated here (the permission check answers 401
    ``UNAUTHENTICATED``). A header that is not a well-formed bearer token, or a token that fails
    verification: 401 with ``INVALID_TOKEN`` or ``TOKEN_EXPIRED``.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Principal, str] | None:
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        if parts[0].lower() != self.keyword or len(parts) != 2:
            raise TokenRejected("INVALID_TOKEN", "Authorization header must be 'Bearer <token>'.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise TokenRejected("INVALID_TOKEN", "Token is malformed or not valid.") from exc
        try:
            principal = iam_principal(token) if iam.client.configured else decode_token(token)
        except TokenError as exc:
            raise TokenRejected(exc.code, exc.message) from exc
        # The token's tenant is the request's: its data is read and written in its region (NFR-3).
        activate_tenant(principal.tenant_id)
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests, per RFC 6750.
        return 'Bearer realm="mmm"'
