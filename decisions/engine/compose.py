"""Action composition (FR-4, FR-5, FR-6, UT-MMM-02): render a matched playbook's templates.

- Mirror: title and body only, neutral language (checked again after rendering);
- Mentor: adds ``rationale`` {``evidence_links``, ``baseline_comparison``, ``why_relevant``};
- Multiplier: as Mentor, plus ``execution`` metadata for the Edge Agent or CI, always
  ``requires_consent=True``, and ``requires_dual_channel`` from the playbook or from the
  tenant policy's ``dual_channel_tags``.
A template that fails to render drops its action with a reason; it never fails the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from decisions.engine.context import DecisionContext
from decisions.engine.matching import PlaybookCandidate
from decisions.engine.playbook_routing import PlaybookRouting, playbook_routing
from decisions.engine.templates import TemplateProblem, prescriptive_phrases, render
from mmm_project.vocabulary import Suppression

EVIDENCE_LINKS_LIMIT = 6


@dataclass(frozen=True)
class ProposedAction:
    """A candidate action on its way through the gates; ``payload`` is what the actor sees."""

    playbook_id: str
    playbook_name: str
    version_id: str
    version: int
    index: int
    type: str
    surfaces: tuple[str, ...]
    payload: dict[str, Any]
    tags: tuple[str, ...]
    template_priority: float
    requires_consent: bool
    requires_dual_channel: bool
    cooldown_minutes: int | None
    priority: float = 0.0
    surface_payloads: dict[str, Any] = field(default_factory=dict)
    experiment_id: str | None = None
    variant: str = ""
    llm_prompt: str = ""  # set when the template asks for LLM-written content (FR-5)
    routing: PlaybookRouting | None = None  # the playbook's own routing rules and quotas (FR-3)
    route_reason: str = ""  # ``RouteChange`` when the surfaces were changed (escalation, FR-3)

    def with_surfaces(self, surfaces: tuple[str, ...]) -> ProposedAction:
        return replace(self, surfaces=surfaces)

    def suppressed(self, reason: str) -> dict[str, Any]:
        """The record kept on the decision (admin-visible, never returned to the actor)."""
        return {
            "playbook_id": self.playbook_id,
            "playbook_version": self.version,
            "action_index": self.index,
            "type": self.type,
            "surfaces": list(self.surfaces),
            "reason": reason,
        }


def evidence_links(context: DecisionContext) -> list[str]:
    """Ids behind an action (spec 10.1 ``evidence_links``): this signal, the firing incidents in
    the context (at most 2; present only when a candidate playbook reads ``recent_incidents``),
    then recent signals of the same event type."""
    same = [s.signal_id for s in context.recent_signals if s.event_type == context.signal.event_type]
    firing = [i.incident_id for i in context.recent_incidents if i.status == "firing"][:2]
    return [context.signal.signal_id, *firing, *same][:EVIDENCE_LINKS_LIMIT]


def _reference(candidate: PlaybookCandidate, index: int, action_type: str) -> dict[str, Any]:
    return {
        "playbook_id": candidate.playbook_id,
        "playbook_version": candidate.version,
        "action_index": index,
        "type": action_type,
    }


def compose_actions(
    candidate: PlaybookCandidate, *, context: DecisionContext, dual_channel_tags: frozenset[str]
) -> tuple[list[ProposedAction], list[dict[str, Any]]]:
    """Render every action template of ``candidate``; return ``(proposed, suppressed records)``."""
    variables, links = context.as_dict(), evidence_links(context)
    proposed, suppressed = [], []
    for index in range(len(candidate.actions)):
        action, record = compose_action(
            candidate, index, variables=variables, links=links, dual_channel_tags=dual_channel_tags
        )
        if action is not None:
            proposed.append(action)
        else:
            suppressed.append(record)
    return proposed, suppressed


def compose_action(
    candidate: PlaybookCandidate,
    index: int,
    *,
    variables: dict[str, Any],
    links: list[str],
    dual_channel_tags: frozenset[str],
    priority: float = 0.0,
) -> tuple[ProposedAction | None, dict[str, Any] | None]:
    """Render the candidate's ``index``-th action template over ``variables`` (``context.as_dict()``)
    with the evidence ``links``; return ``(action, None)`` or ``(None, suppressed record)``."""
    template = candidate.actions[index]
    action_type = template["type"]
    try:
        payload: dict[str, Any] = {
            "title": render(template["title"], variables),
            "body": render(template["body"], variables),
            "evidence_links": links,
        }
        llm_prompt = render(template["llm"]["prompt"], variables) if template.get("llm") else ""
        if template.get("rationale"):
            payload["rationale"] = {
                "why_relevant": render(template["rationale"]["why_relevant"], variables),
                "baseline_comparison": render(template["rationale"]["baseline_comparison"], variables),
                "evidence_links": links,
            }
    except TemplateProblem:
        return None, {
            **_reference(candidate, index, action_type),
            "reason": Suppression.TEMPLATE_RENDER_FAILED,
        }
    if action_type == "mirror" and prescriptive_phrases(f"{payload['title']} {payload['body']}"):
        return None, {**_reference(candidate, index, action_type), "reason": Suppression.PRESCRIPTIVE_MIRROR}
    tags = tuple(template.get("tags", ()))
    dual = action_type == "multiplier" and (
        bool(template.get("requires_dual_channel")) or bool(dual_channel_tags.intersection(tags))
    )
    if action_type == "multiplier":
        payload["execution"] = dict(template["execution"])
        payload["requires_consent"] = True
        payload["dual_channel_required"] = dual
    action = ProposedAction(
        playbook_id=candidate.playbook_id,
        playbook_name=candidate.playbook_name,
        version_id=candidate.version_id,
        version=candidate.version,
        index=index,
        type=action_type,
        surfaces=tuple(template["surfaces"]),
        payload=payload,
        tags=tags,
        template_priority=float(template.get("priority", 0.5)),
        requires_consent=action_type == "multiplier",
        requires_dual_channel=dual,
        cooldown_minutes=candidate.limits.get("cooldown_minutes"),
        priority=priority,
        experiment_id=candidate.experiment_id,
        variant=candidate.variant,
        llm_prompt=llm_prompt,
        routing=playbook_routing(candidate.limits, candidate.routing),
    )
    return action, None
