"""Surface routing (FR-8): one payload per surface, each keeping the same core content.

- ``ide``: a short status ``pill`` and a detail ``card``;
- ``ci``: a one-line ``check_summary`` and a markdown ``pr_comment``;
- ``alert``: a ``notification`` with title, text and severity.
Every surface offers a dismissal (FR-10: easy to ignore or opt out); a Multiplier offers to run
only behind explicit consent.
"""

from __future__ import annotations

from typing import Any

from decisions.engine.compose import ProposedAction

PILL_CHARS = 60
LABELS = {"mirror": "Mirror", "mentor": "Mentor", "multiplier": "Multiplier"}


def _pill(title: str) -> str:
    return title if len(title) <= PILL_CHARS else title[: PILL_CHARS - 1].rstrip() + "\u2026"


def _controls(action: ProposedAction) -> list[str]:
    controls = ["dismiss", "snooze"]
    if action.type == "multiplier":
        controls.insert(0, "review_and_consent")
    return controls


def _markdown(action: ProposedAction) -> str:
    payload = action.payload
    lines = [f"**{LABELS[action.type]}: {payload['title']}**", "", payload["body"]]
    rationale = payload.get("rationale")
    if rationale:
        lines += [
            "",
            f"_Why this is relevant:_ {rationale['why_relevant']}",
            f"_Compared with the usual:_ {rationale['baseline_comparison']}",
        ]
    if action.type == "multiplier":
        lines += ["", "Nothing runs without your explicit consent."]
    lines += ["", f"<sub>Evidence: {', '.join(payload['evidence_links'])}</sub>"]
    return "\n".join(lines)


def surface_payloads(action: ProposedAction, *, severity: str) -> dict[str, Any]:
    """Payloads for each of ``action.surfaces``; shapes as in the module docstring."""
    payload = action.payload
    out: dict[str, Any] = {}
    for surface in action.surfaces:
        if surface == "ide":
            out["ide"] = {
                "pill": _pill(payload["title"]),
                "card": {
                    "kind": action.type,
                    "title": payload["title"],
                    "body": payload["body"],
                    "rationale": payload.get("rationale"),
                    "evidence_links": payload["evidence_links"],
                    "controls": _controls(action),
                },
            }
        elif surface == "ci":
            out["ci"] = {
                "check_summary": f"{LABELS[action.type]}: {payload['title']}",
                "pr_comment": _markdown(action),
            }
        elif surface == "alert":
            out["alert"] = {
                "notification": {"title": payload["title"], "text": payload["body"], "severity": severity}
            }
    return out
