"""Response middleware for the security headers NFR-7 requires on every response."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    """Set ``X-Content-Type-Options``, ``X-Frame-Options`` and ``Strict-Transport-Security``.

    Django's own SecurityMiddleware sends HSTS only over HTTPS; NFR-7 asks for it on every
    response (TLS is terminated in front of the service), so it is set here unconditionally.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.hsts = f"max-age={settings.HSTS_SECONDS}"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Frame-Options"] = "DENY"
        response["Strict-Transport-Security"] = self.hsts
        return response
