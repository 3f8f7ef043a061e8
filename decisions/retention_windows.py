"""Each tenant's retention windows (NFR-3): how long decisions, outcomes and logs are kept.

In order: a value set in the tenant's MMM policy (a value other than the default; spec 11.5),
else the tenant's Data Governance config (``retention``, spec 12.9), else the spec's defaults:
decisions (and their signals) 90 days, outcomes 365 days, logs (rejected-signal records) 30 days.
Data Governance unreachable means the defaults (or the policy's values), never a purge on guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from mmm_project.clients import PeerRejected, PeerUnavailable, data_governance
from preferences.models import TenantPolicy

DEFAULT_DECISIONS_DAYS = TenantPolicy._meta.get_field("decision_retention_days").default
DEFAULT_OUTCOMES_DAYS = TenantPolicy._meta.get_field("outcome_retention_days").default


@dataclass(frozen=True)
class RetentionWindows:
    decisions_days: int
    outcomes_days: int
    logs_days: int
    source: str  # "policy", "data_governance", "default" (of the decisions window)


def _governance(tenant_id: str) -> dict[str, int]:
    if not data_governance.client.configured:
        return {}
    try:
        return data_governance.retention(tenant_id=tenant_id)
    except (PeerUnavailable, PeerRejected):
        return {}


def retention_windows(*, tenant_id: str) -> RetentionWindows:
    """The tenant's windows, from its policy, Data Governance or the defaults (see module doc)."""
    policy = TenantPolicy.objects.for_tenant(tenant_id).first()
    governed = _governance(tenant_id)
    decisions = policy.decision_retention_days if policy else DEFAULT_DECISIONS_DAYS
    outcomes = policy.outcome_retention_days if policy else DEFAULT_OUTCOMES_DAYS
    source = "policy" if decisions != DEFAULT_DECISIONS_DAYS else "default"
    if decisions == DEFAULT_DECISIONS_DAYS and "decisions_days" in governed:
        decisions, source = governed["decisions_days"], "data_governance"
    if outcomes == DEFAULT_OUTCOMES_DAYS and "outcomes_days" in governed:
        outcomes = governed["outcomes_days"]
    logs = governed.get("logs_days", settings.REJECTED_SIGNAL_RETENTION_DAYS)
    return RetentionWindows(decisions, outcomes, logs, source)
