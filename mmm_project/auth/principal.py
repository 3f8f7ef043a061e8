"""The authenticated caller, built from verified token claims."""

from __future__ import annotations

from dataclasses import dataclass, field

ACTOR_TYPES = ("human", "ai_agent")
SCOPES = ("mmm.decide", "mmm.read", "mmm.outcome")
# Scopes only service principals get: mmm.outcome.any reports outcomes for any actor of the tenant
# (an Edge Agent or CI saying an action was shown or ignored).
SERVICE_SCOPES = ("mmm.outcome.any",)
ADMIN_ROLES = frozenset({"mmm_admin", "tenant_admin"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the ``sub``, ``tenant_id``, ``actor_type``, ``roles`` and ``scope`` claims.

    It stands in for ``request.user`` in DRF views (``is_authenticated`` is always true).
    """

    actor_id: str
    tenant_id: str
    actor_type: str = "human"
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_admin(self) -> bool:
        """True for the ``mmm_admin`` and ``tenant_admin`` roles (FR-13)."""
        return bool(self.roles & ADMIN_ROLES)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
