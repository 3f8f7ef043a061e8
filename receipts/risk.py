"""The NFR-4 risk of a decision, as its receipt attests it: a property of the proposed
intervention (action types, dual-channel approval, the signal's severity), never of the person."""

from __future__ import annotations

from collections.abc import Iterable

TYPE_RISK = {"mirror": 0.1, "mentor": 0.3, "multiplier": 0.6}
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def risk_assessment(
    *, action_types: Iterable[str], dual_channel: bool, severity: str, degraded: bool, policy_stale: bool
) -> tuple[float, list[str], bool]:
    """NFR-4 risk of a decision: ``(risk_score in [0, 1], risk_flags, safety_checks_passed)``.

    The score is the riskiest proposed action type (mirror 0.1, mentor 0.3, multiplier 0.6),
    plus 0.2 when dual-channel approval is needed and up to 0.2 for the signal's severity; 0.0
    when nothing is proposed. It describes the intervention, never the person.
    """
    types = list(action_types)
    flags = []
    if "multiplier" in types:
        flags.append("multiplier_proposed")
    if dual_channel:
        flags.append("dual_channel_required")
    if SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK["high"]:
        flags.append("high_severity_signal")
    if degraded:
        flags.append("degraded_mode")
    if policy_stale:
        flags.append("policy_stale")
    if not types:
        return 0.0, flags, True
    score = max(TYPE_RISK[t] for t in types) + (0.2 if dual_channel else 0.0)
    score += 0.2 * SEVERITY_RANK.get(severity, 0) / SEVERITY_RANK["critical"]
    return round(min(score, 1.0), 3), flags, True
