"""Reads of tenant policy and actor preferences, scoped to one tenant; defaults when none stored."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.cache import cache

from decisions.engine.overrides import parse_exceptions, parse_windows
from decisions.engine.policy import PolicyView, PreferencesView
from mmm_project.caching import TENANT_CONFIG, LocalCache, generation_get
from mmm_project.caching.prefetch import cache_get
from mmm_project.privacy import actor_ref
from preferences.models import ActorPreferences, TenantPolicy


def tenant_policy_get(*, tenant_id: str) -> TenantPolicy:
    """Return the tenant's stored policy, or an unsaved one holding the defaults (FR-13)."""
    policy = TenantPolicy.objects.for_tenant(tenant_id).first()
    return policy if policy is not None else TenantPolicy(tenant_id=tenant_id)


def tenant_policy_state(policy: TenantPolicy) -> dict[str, Any]:
    """The policy's content as ``GET /v1/mmm/tenants/{id}/policy`` shows it (spec 11.5), without the
    tenant id and timestamp: what admin receipts record before and after a change."""
    cost = policy.llm_daily_cost_budget
    return {
        "enabled_surfaces": list(policy.enabled_surfaces),
        "enabled_action_types": list(policy.enabled_action_types),
        "restrictions": list(policy.restrictions),
        "quotas": {
            "max_actions_per_hour": policy.max_actions_per_hour,
            "max_actions_per_day": policy.max_actions_per_day,
            "max_actions_per_repo_per_day": policy.max_actions_per_repo_per_day,
            "max_actions_per_decision": policy.max_actions_per_decision,
        },
        "quiet_hours": {
            "start": policy.quiet_hours_start,
            "end": policy.quiet_hours_end,
            "timezone": policy.timezone,
        },
        "cooldown_minutes": policy.cooldown_minutes,
        "safety_critical": policy.safety_critical,
        "retention": {
            "decision_days": policy.decision_retention_days,
            "outcome_days": policy.outcome_retention_days,
        },
        "priorities": {key: float(value) for key, value in policy.priorities.items()},
        "dual_channel_tags": list(policy.dual_channel_tags),
        "dual_channel_approvers": list(policy.dual_channel_approvers),
        "override_windows": list(policy.override_windows),
        "exception_approvals": list(policy.exception_approvals),
        "llm": {
            "daily_token_budget": policy.llm_daily_token_budget,
            "daily_cost_budget": None if cost is None else str(cost),
            "system_prompt_id": policy.system_prompt_id,
        },
    }


def actor_preferences_get(*, tenant_id: str, actor_id: str) -> ActorPreferences:
    """Return the actor's stored preferences, or unsaved defaults: nothing opted out (FR-14)."""
    prefs = ActorPreferences.objects.for_tenant(tenant_id).filter(actor_id=actor_id).first()
    return prefs if prefs is not None else ActorPreferences(tenant_id=tenant_id, actor_id=actor_id)


POLICY_CACHE_SECONDS = 60  # spec 12.7 / NFR-1: tenant policy cached 60 s
_POLICY_VIEWS = LocalCache(max_entries=1024, max_age=POLICY_CACHE_SECONDS)


def tenant_policy_view(*, tenant_id: str, generation: str | None = None) -> PolicyView:
    """The effective policy as plain data; ``snapshot_id`` is a digest of its content.

    The digest changes whenever the policy's content does, so decisions and receipts name the
    exact policy they were made under (``local-`` prefix: the embedded Policy default). Cached
    per process for at most 60 s and while the tenant's configuration generation
    (``mmm_project.caching``, bumped by every policy write) is ``generation`` (read when None):
    a change is seen by the next decision.
    """
    if generation is None:
        generation = generation_get(TENANT_CONFIG, tenant_id)
    return _POLICY_VIEWS.get_or_load(tenant_id, generation, lambda: _policy_view_load(tenant_id))


def _policy_view_load(tenant_id: str) -> PolicyView:
    policy = tenant_policy_get(tenant_id=tenant_id)
    content = {name: getattr(policy, name) for name in TenantPolicy.DECISION_FIELDS}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return PolicyView(
        snapshot_id=f"local-{digest}",
        enabled_action_types=frozenset(policy.enabled_action_types),
        enabled_surfaces=frozenset(policy.enabled_surfaces),
        restrictions=frozenset(policy.restrictions),
        max_actions_per_hour=policy.max_actions_per_hour,
        max_actions_per_day=policy.max_actions_per_day,
        max_actions_per_repo_per_day=policy.max_actions_per_repo_per_day,
        max_actions_per_decision=policy.max_actions_per_decision,
        cooldown_minutes=policy.cooldown_minutes,
        quiet_hours_start=policy.quiet_hours_start,
        quiet_hours_end=policy.quiet_hours_end,
        timezone=policy.timezone,
        safety_critical=policy.safety_critical,
        priorities={str(k): float(v) for k, v in policy.priorities.items()},
        dual_channel_tags=frozenset(policy.dual_channel_tags),
        version_ids=(f"local-{digest}",),
        override_windows=parse_windows(policy.override_windows),
        exception_approvals=parse_exceptions(policy.exception_approvals),
    )


PREFERENCES_CACHE_SECONDS = 300  # NFR-1: actor preferences cached 5 minutes


def preferences_cache_key(tenant_id: str, actor_id: str) -> str:
    """The cache key of an actor's preferences: the actor id (the caller's; a path segment may hold
    spaces or control characters, which memcached-style keys refuse) enters as a digest."""
    return f"prefs:{tenant_id}:{actor_ref(tenant_id, actor_id)}"


def actor_preferences_view(*, tenant_id: str, actor_id: str) -> PreferencesView:
    """The actor's preferences as plain data (defaults: nothing opted out, every surface).

    Cached 5 minutes (NFR-1); every write drops the cached copy after it commits.
    """
    key = preferences_cache_key(tenant_id, actor_id)
    cached = cache_get(key)  # read ahead with the decision's other keys (decisions.services.decide)
    if cached is None:
        prefs = actor_preferences_get(tenant_id=tenant_id, actor_id=actor_id)
        cached = {
            "opt_out_categories": list(prefs.opt_out_categories),
            "preferred_surfaces": list(prefs.preferred_surfaces),
            "snooze_until": prefs.snooze_until,
            "muted_playbooks": muted_playbooks(prefs),
        }
        cache.set(key, cached, timeout=PREFERENCES_CACHE_SECONDS)
    return PreferencesView(
        opt_out_categories=frozenset(cached["opt_out_categories"]),
        preferred_surfaces=frozenset(cached["preferred_surfaces"]),
        snooze_until=cached["snooze_until"],
        muted_playbooks=cached.get("muted_playbooks", {}),
    )


def muted_playbooks(prefs: ActorPreferences) -> dict[str, datetime]:
    """``{playbook_id: until}`` of the actor's "less like this" mutes (expired ones included; the
    gate compares with the decision time)."""
    return {str(m["playbook_id"]): datetime.fromisoformat(m["until"]) for m in prefs.muted_playbooks}
