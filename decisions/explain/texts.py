"""Plain-language sentences for "why am I seeing this" (issue 15): pure functions of stored data.

Every sentence is built from what the decision stored (signal metadata, playbook name and version,
reason codes, policy figures), never from LLM output, so an explanation is as trustworthy as the
receipt that attests the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmm_project.vocabulary import RouteChange, Suppression

_TYPE_NAMES = {
    "mirror": "Mirror (awareness)",
    "mentor": "Mentor (suggestion)",
    "multiplier": "Multiplier (automation)",
}

SUPPRESSION_SENTENCES: dict[str, str] = {
    Suppression.CAP_PER_DECISION: "More actions were proposed than one decision may deliver; "
    "this one ranked lower.",
    Suppression.QUOTA_ACTOR_HOUR: "The actor had already received the most nudges allowed in that hour.",
    Suppression.QUOTA_ACTOR_DAY: "The actor had already received the most nudges allowed that day.",
    Suppression.QUOTA_REPO_DAY: "The repository had already received the most nudges allowed that day.",
    Suppression.COOLDOWN: "The same playbook had nudged this actor on this repository recently (cool-down).",
    Suppression.QUIET_HOURS: "It was during the tenant's quiet hours, when no nudge is delivered.",
    Suppression.PLAYBOOK_QUIET_HOURS: "It was during the playbook's own quiet hours.",
    Suppression.QUOTA_PLAYBOOK_HOUR: "The actor had already received the most nudges this playbook "
    "allows in that hour.",
    Suppression.QUOTA_PLAYBOOK_DAY: "The actor had already received the most nudges this playbook "
    "allows that day.",
    Suppression.ACTION_TYPE_DISABLED: "The tenant's policy does not enable this type of action.",
    Suppression.SURFACES_DISABLED: "The tenant's policy enables none of the surfaces this action targets.",
    Suppression.RESTRICTED: "The tenant's policy restricts this kind of action.",
    Suppression.POLICY_FAIL_CLOSED: "The policy service was unavailable and the tenant is safety-critical, "
    "so no action was delivered.",
    Suppression.SNOOZED: "The actor had snoozed nudges.",
    Suppression.OPTED_OUT: "The actor had opted out of this type of action.",
    Suppression.SURFACES_NOT_PREFERRED: "None of the action's surfaces is one the actor prefers.",
    Suppression.MUTED_PLAYBOOK: "The actor had asked for less like this: the playbook is muted for them.",
    Suppression.TEMPLATE_RENDER_FAILED: "The playbook's template could not be rendered for this signal.",
    Suppression.PRESCRIPTIVE_MIRROR: "A Mirror must stay neutral and the rendered text was prescriptive.",
    Suppression.LLM_UNAVAILABLE: "The text needed the LLM gateway, which was unavailable.",
}
PLAYBOOK_DROPPED = "playbook.not_evaluated"
PLAYBOOK_DROPPED_SENTENCE = (
    "The playbook's conditions could not be evaluated for this signal, so it was skipped."
)


def type_name(action_type: str) -> str:
    return _TYPE_NAMES.get(action_type, action_type)


def reason_code(reason: str) -> str:
    """The stable code of a suppression record's ``reason`` (the part before ``:detail``)."""
    code = reason.split(":")[0]
    return code if code in SUPPRESSION_SENTENCES else PLAYBOOK_DROPPED


def suppression_sentence(reason: str) -> str:
    """One sentence for a suppression reason code; unknown codes (a playbook's condition error)
    get the generic playbook sentence."""
    return SUPPRESSION_SENTENCES.get(reason_code(reason), PLAYBOOK_DROPPED_SENTENCE)


def signal_sentence(signal: Mapping[str, Any]) -> str:
    return (
        f"A {signal.get('severity', 'unknown')}-severity '{signal.get('event_type', '?')}' signal "
        f"from {signal.get('source', '?')} at {signal.get('ts') or 'an unknown time'}."
    )


def playbook_sentence(name: str, version: int) -> str:
    return f"The playbook '{name}' (version {version}) has a trigger for this kind of signal and matched."


def condition_sentence(index: int, expression: str, held: bool | None) -> str:
    if held is None:
        return f"Condition {index} ({expression}) could not be checked again on the stored context."
    return f"Condition {index} ({expression}) {'held' if held else 'did not hold'} for the stored context."


def gate_sentences(
    *, action_type: str, surfaces: list[str], quiet_hours: Mapping[str, Any], position: int
) -> list[dict[str, Any]]:
    """The gates a delivered action passed, in the order the engine runs them (FR-7, FR-11, FR-14)."""
    on = ", ".join(surfaces) or "no surface"
    start, end = quiet_hours.get("start"), quiet_hours.get("end")
    zone = quiet_hours.get("timezone", "UTC")
    quiet = (
        "The tenant has no quiet hours."
        if start == end
        else f"It was outside the tenant's quiet hours ({start:02d}:00-{end:02d}:00 {zone})."
        if isinstance(start, int) and isinstance(end, int)
        else "It was outside the tenant's quiet hours."
    )
    return [
        {
            "gate": "policy",
            "passed": True,
            "text": f"The tenant's policy allows {type_name(action_type)} actions on {on}.",
        },
        {
            "gate": "preferences",
            "passed": True,
            "text": "You had not snoozed nudges, opted out of this type or muted this playbook, "
            f"and {on} is a surface you accept.",
        },
        {"gate": "quiet_hours", "passed": True, "text": quiet},
        {
            "gate": "fatigue",
            "passed": True,
            "text": "It was within your hourly and daily limits, the repository's daily limit and the "
            f"playbook's cool-down; it ranked {position + 1} among this decision's actions.",
        },
    ]


ROUTE_SENTENCES: dict[str, str] = {
    RouteChange.ESCALATED: "Earlier nudges of this playbook on this repository went unacknowledged, "
    "so, as the playbook's routing rules say, this one was sent to {surfaces} instead of its usual "
    "surfaces. Nothing else about it changed, and you can dismiss or snooze it as any other.",
}


def route_sentence(route_reason: str, surfaces: list[str]) -> dict[str, Any] | None:
    """The routing step of an action whose surfaces a playbook's routing rule changed (FR-3)."""
    text = ROUTE_SENTENCES.get(route_reason)
    if text is None:
        return None
    return {"gate": "routing", "passed": True, "text": text.format(surfaces=", ".join(surfaces))}


def summary_sentence(*, action_type: str, signal: Mapping[str, Any], playbook: str | None) -> str:
    why = f"the playbook '{playbook}' matched" if playbook else "a playbook matched"
    return (
        f"You are seeing this {type_name(action_type)} because {why} a "
        f"{signal.get('severity', 'unknown')}-severity '{signal.get('event_type', '?')}' signal "
        f"from {signal.get('source', '?')}, and every gate (policy, your preferences, quiet hours, "
        "fatigue) let it through."
    )


def llm_sentence(status: str, verdict: str | None) -> str:
    if status in ("", None):
        return "The text comes from the playbook's template; no LLM was used."
    if status == "enriched":
        return f"The text was written by the LLM gateway and passed its safety check ({verdict or 'pass'})."
    if status == "unsafe":
        return "The LLM-written text failed the safety check and was discarded; the action is suppressed."
    if status in ("pending", "requesting"):
        return "The LLM-written text is still being prepared; the template's text stands meanwhile."
    return "The LLM gateway was not used for the final text; the template's text stands."
