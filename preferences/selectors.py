"""Reads of tenant policy and actor preferences, scoped to one tenant; defaults when none stored."""

from __future__ import annotations

from preferences.models import ActorPreferences, TenantPolicy


def tenant_policy_get(*, tenant_id: str) -> TenantPolicy:
    """Return the tenant's stored policy, or an unsaved one holding the defaults (FR-13)."""
    policy = TenantPolicy.objects.for_tenant(tenant_id).first()
    return policy if policy is not None else TenantPolicy(tenant_id=tenant_id)


def actor_preferences_get(*, tenant_id: str, actor_id: str) -> ActorPreferences:
    """Return the actor's stored preferences, or unsaved defaults: nothing opted out (FR-14)."""
    prefs = ActorPreferences.objects.for_tenant(tenant_id).filter(actor_id=actor_id).first()
    return prefs if prefs is not None else ActorPreferences(tenant_id=tenant_id, actor_id=actor_id)
