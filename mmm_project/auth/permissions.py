"""DRF permissions for the spec's scopes (``mmm.decide``, ``mmm.read``, ``mmm.outcome``) and roles.

Usage in a view: ``permission_classes = [HasScope("mmm.read")]`` or ``[IsTenantAdmin]``.
A missing scope or role is 403 ``FORBIDDEN``; no credentials at all is 401.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from mmm_project.auth.principal import SCOPES, Principal


def _principal(request: Request) -> Principal | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, Principal) else None


class HasScope(BasePermission):
    """Allow callers whose token grants ``scope``; admins need the scope too."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope
        self.message = f"Scope '{scope}' is required."

    def __call__(self) -> HasScope:
        # DRF instantiates permission_classes entries; an instance returns itself.
        return self

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = _principal(request)
        return principal is not None and principal.has_scope(self.scope)


class IsTenantAdmin(BasePermission):
    """Allow the ``mmm_admin`` and ``tenant_admin`` roles (FR-13, NFR-7)."""

    message = "Role 'mmm_admin' or 'tenant_admin' is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = _principal(request)
        return principal is not None and principal.is_admin


class ReadScopeOrAdmin(BasePermission):
    """Reads (GET, HEAD, OPTIONS) need scope ``mmm.read``; writes need an admin role (spec 11.2)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = _principal(request)
        if principal is None:
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            self.message = "Scope 'mmm.read' is required."
            return principal.has_scope("mmm.read")
        self.message = IsTenantAdmin.message
        return principal.is_admin
