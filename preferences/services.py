"""Writes of tenant policy (FR-13, spec 11.5) and actor preferences (FR-14, spec 11.4).

Each write stores the row, emits an ``admin_config`` receipt with the before and after state in
the same transaction, and drops the cached copy the decision path reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from mmm_project.residency import tenant_atomic, tenant_on_commit
from preferences.models import ActorPreferences, TenantPolicy
from preferences.selectors import preferences_cache_key, tenant_policy_state
from receipts.services import admin_receipt_create


def tenant_policy_update(*, tenant_id: str, changes: dict[str, Any], actor_id: str) -> TenantPolicy:
    """Apply validated ``changes`` (model field names) to the tenant's policy, creating it if needed.

    Omitted fields keep their value. Raises ValueError for a field that is not a policy field.
    """
    unknown = set(changes) - TenantPolicy.EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not policy fields: {sorted(unknown)}")
    with tenant_atomic():
        policy, created = TenantPolicy.objects.select_for_update().get_or_create(tenant_id=tenant_id)
        before = None if created else tenant_policy_state(policy)
        for field, value in changes.items():
            setattr(policy, field, value)
        policy.save()
        admin_receipt_create(
            tenant_id=tenant_id,
            actor_id=actor_id,
            resource_type="tenant_policy",
            resource_id=tenant_id,
            operation="update",
            before=before,
            after=tenant_policy_state(policy),
        )
    return policy


def _preferences_state(prefs: ActorPreferences) -> dict[str, Any]:
    return {
        "opt_out_categories": list(prefs.opt_out_categories),
        "preferred_surfaces": list(prefs.preferred_surfaces),
        "snooze_until": prefs.snooze_until.isoformat() if prefs.snooze_until else None,
        "muted_playbooks": list(prefs.muted_playbooks),
    }


def actor_preferences_update(
    *, tenant_id: str, actor_id: str, changes: dict[str, Any], changed_by: str
) -> ActorPreferences:
    """Set ``opt_out_categories``, ``preferred_surfaces``, ``muted_playbooks`` (``[{"playbook_id",
    "until"}]``, ISO 8601) and/or ``snooze_until`` (None cancels)."""
    with tenant_atomic():
        prefs, created = ActorPreferences.objects.select_for_update().get_or_create(
            tenant_id=tenant_id, actor_id=actor_id
        )
        before = None if created else _preferences_state(prefs)
        for field in ("opt_out_categories", "preferred_surfaces", "snooze_until", "muted_playbooks"):
            if field in changes:
                setattr(prefs, field, changes[field])
        prefs.save()
        admin_receipt_create(
            tenant_id=tenant_id,
            actor_id=changed_by,
            resource_type="actor_preferences",
            resource_id=str(prefs.preference_id),
            operation="update",
            before=before,
            after=_preferences_state(prefs),
        )
        # Drop the cached copy now and again once the new row is visible: a request reading
        # between the two would otherwise re-cache the old row for 5 minutes.
        key = preferences_cache_key(tenant_id, actor_id)
        cache.delete(key)
        tenant_on_commit(lambda: cache.delete(key))
    return prefs


def actor_snooze(
    *, tenant_id: str, actor_id: str, until: datetime | None, changed_by: str
) -> ActorPreferences:
    """Snooze until ``until`` (a future time), or cancel the snooze with None (FR-14)."""
    if until is not None and until <= timezone.now():
        raise ValueError("until must be in the future")
    return actor_preferences_update(
        tenant_id=tenant_id, actor_id=actor_id, changes={"snooze_until": until}, changed_by=changed_by
    )


def actor_playbook_mute(
    *, tenant_id: str, actor_id: str, playbook_id: str, until: datetime, changed_by: str
) -> ActorPreferences:
    """Mute ``playbook_id`` for the actor until ``until`` ("less like this", issue 15).

    Replaces an earlier mute of the same playbook and drops expired ones; the preference gate then
    suppresses the playbook's actions for this actor (``actor.muted_playbook``). Writes an
    ``admin_config`` receipt like every preference change.
    """
    with tenant_atomic():
        prefs = actor_preferences_get_for_update(tenant_id=tenant_id, actor_id=actor_id)
        now = timezone.now()
        kept = [
            m
            for m in prefs.muted_playbooks
            if m["playbook_id"] != playbook_id and datetime.fromisoformat(m["until"]) > now
        ]
        mutes = [*kept, {"playbook_id": playbook_id, "until": until.isoformat()}]
        return actor_preferences_update(
            tenant_id=tenant_id, actor_id=actor_id, changes={"muted_playbooks": mutes}, changed_by=changed_by
        )


def actor_action_type_opt_out(
    *, tenant_id: str, actor_id: str, action_type: str, changed_by: str
) -> ActorPreferences:
    """Add ``action_type`` to the actor's opt-out categories (FR-14) unless already there."""
    with tenant_atomic():
        prefs = actor_preferences_get_for_update(tenant_id=tenant_id, actor_id=actor_id)
        if action_type in prefs.opt_out_categories:
            return prefs
        return actor_preferences_update(
            tenant_id=tenant_id,
            actor_id=actor_id,
            changes={"opt_out_categories": [*prefs.opt_out_categories, action_type]},
            changed_by=changed_by,
        )


def actor_preferences_get_for_update(*, tenant_id: str, actor_id: str) -> ActorPreferences:
    """The actor's preferences row, locked for this transaction (created with defaults if absent)."""
    prefs, _ = ActorPreferences.objects.select_for_update().get_or_create(
        tenant_id=tenant_id, actor_id=actor_id
    )
    return prefs
