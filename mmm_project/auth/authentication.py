"""DRF authentication: ``Authorization: Bearer <JWT>`` verified locally (embedded IAM default)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from mmm_project.auth.principal import Principal
from mmm_project.auth.tokens import TokenError, decode_token


class TokenRejected(exceptions.AuthenticationFailed):
    """401 carrying the token error's stable code (``TOKEN_EXPIRED``, ``INVALID_TOKEN``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.mmm_code = code


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
            principal = decode_token(token)
        except TokenError as exc:
            raise TokenRejected(exc.code, exc.message) from exc
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests, per RFC 6750.
        return 'Bearer realm="mmm"'
