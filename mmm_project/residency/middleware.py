"""Per-request residency scope (NFR-3): none until authentication names the tenant, reset when
the response is out; the Django admin works on the region chosen in the session."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mmm_project.residency.context import DEFAULT_ALIAS, Scope, _scope, regions

ADMIN_REGION_SESSION_KEY = "mmm_admin_region"
ADMIN_PREFIX = "/admin/"


def admin_region(request: HttpRequest) -> str:
    """The region the admin pages show for this session (``default`` unless switched)."""
    session = getattr(request, "session", None)
    chosen = session.get(ADMIN_REGION_SESSION_KEY) if session is not None else None
    return chosen if chosen in regions() else DEFAULT_ALIAS


class ResidencyMiddleware:
    """Start every request with no tenant in context (nothing leaks from the previous request on
    this thread) and restore that afterwards. ``/admin/`` pages get the session's region."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = Scope(admin_region(request), None) if request.path.startswith(ADMIN_PREFIX) else None
        token = _scope.set(scope)
        try:
            return self.get_response(request)
        finally:
            _scope.reset(token)
