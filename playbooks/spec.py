"""The playbook format (FR-3) and its validation: every problem is reported with its field path.

A playbook, as YAML or JSON::

    name: ci-failing-on-default-branch          # required, unique per tenant
    description: ...                            # optional
    owner: platform-team                        # optional: a team or role, not a person
    triggers:                                   # required, at least one
      - event_type: ci.check_run.failed         # exact, a prefix pattern "ci.*", or "*"
        source: github                          # optional, default "*"
        min_severity: medium                    # optional, default info
        actor_roles: [developer]                # optional: any of these roles; empty = anyone
        count: 3                                # optional, with window_minutes: only the 3rd
        window_minutes: 30                      #   fitting signal of the repo in 30 min fires
    conditions:                                 # optional CEL expressions, all must hold
      - 'context.branch in ["main", "master"]'  # variables: docs/playbook-context.md
    actions:                                    # required, at least one
      - type: mirror | mentor | multiplier
        surfaces: [ide, ci, alert]
        title: "CI failed on {{ context.branch }}"   # Jinja2 (sandboxed) over the context
        body: "..."
        priority: 0.5                           # optional, 0..1
        tags: [auto_patch]                      # optional, matched by policy restrictions
        rationale:                              # mentor and multiplier: required
          why_relevant: "..."
          baseline_comparison: "..."
        execution:                              # multiplier only: required
          executor: ci | edge_agent
          operation: rerun_failed_jobs
          parameters: {}
        requires_dual_channel: false            # multiplier only
    routing:                                    # optional (FR-3): playbooks/routing_spec.py
      quiet_hours: {start: "22:00", end: "07:00", timezone: Europe/Berlin}
      escalation: {after_unacknowledged: 3, surface: alert}
    limits:
      cooldown_minutes: 120                     # optional; the tenant policy's otherwise
      max_actions_per_hour: 1                   # optional: this playbook's quotas per actor
      max_actions_per_day: 3

Mirror title and body must not use prescriptive language (FR-4); no action text may use fear,
urgency, blame or misleading certainty (FR-10, ``decisions.engine.language``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from decisions.engine.conditions import ConditionProblem, compile_condition
from decisions.engine.context import sample_context
from decisions.engine.language import language_findings
from decisions.engine.templates import TemplateProblem, render
from decisions.engine.thresholds import threshold_fields
from mmm_project.vocabulary import ActionType, Severity, Surface
from playbooks.routing_spec import validate_limits, validate_routing

TOP_LEVEL_KEYS = {
    "name",
    "description",
    "owner",
    "tenant_id",
    "triggers",
    "conditions",
    "actions",
    "limits",
    "routing",
    "experiment_metadata",
}
TRIGGER_KEYS = {"event_type", "source", "min_severity", "actor_roles", "count", "window_minutes"}
LLM_KEYS = {"prompt"}
ACTION_KEYS = {
    "llm",
    "type",
    "surfaces",
    "title",
    "body",
    "priority",
    "tags",
    "rationale",
    "execution",
    "requires_dual_channel",
}
RATIONALE_KEYS = {"why_relevant", "baseline_comparison"}
EXECUTION_KEYS = {"executor", "operation", "parameters"}
EXECUTORS = ("ci", "edge_agent")
MAX_NAME = 200


@dataclass(frozen=True)
class Problem:
    """One validation problem: ``field`` is a path such as ``actions[1].title``.

    ``publish_only``: a draft may be saved with it (CEL that does not compile, a template that
    does not render, prescriptive Mirror text); publishing refuses it. Other problems (shape,
    types, unknown fields) refuse the save itself.
    """

    field: str
    message: str
    publish_only: bool = False
    category: str | None = None  # language findings: fear, urgency, blame, misleading_certainty, prescriptive


def problems_output(problems: list[Problem]) -> list[dict[str, str | None]]:
    """Publish-level problems of a draft as the API shows them: ``[{"field", "message", "category"}]``."""
    return [{"field": p.field or "playbook", "message": p.message, "category": p.category} for p in problems]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.sample = sample_context()

    def add(
        self, field: str, message: str, *, publish_only: bool = False, category: str | None = None
    ) -> None:
        self.problems.append(Problem(field, message, publish_only, category))

    def unknown_keys(self, value: dict, allowed: set[str], path: str) -> None:
        for key in sorted(set(value) - allowed):
            self.add(f"{path}.{key}" if path else key, "unknown field")

    def string(self, value: Any, path: str, *, required: bool = True, max_length: int = 4000) -> str | None:
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(path, "must be a non-empty string" if required else "must be a string")
            return None
        if len(value) > max_length:
            self.add(path, f"must be at most {max_length} characters")
            return None
        return value

    def string_list(self, value: Any, path: str, choices: tuple[str, ...] | None = None) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(path, "must be a list of strings")
            return []
        if choices is not None:
            for item in value:
                if item not in choices:
                    self.add(path, f"unknown value {item!r}; expected one of {', '.join(choices)}")
        return list(dict.fromkeys(value))

    def template(
        self, value: Any, path: str, *, mirror: bool = False, action_text: bool = True
    ) -> str | None:
        source = self.string(value, path)
        if source is None:
            return None
        try:
            rendered = render(source, self.sample)
        except TemplateProblem as exc:
            self.add(path, f"template error: {exc}", publish_only=True)
            return source
        if action_text:  # FR-10 for every action's words, FR-4 too for a Mirror's
            for finding in language_findings(source, rendered, mirror=mirror):
                self.add(path, finding.message, publish_only=True, category=finding.category)
        return source


def _event_type_pattern(value: str) -> bool:
    if value == "*":
        return True
    head = value[:-2] if value.endswith(".*") else value
    return bool(head) and "*" not in head and all(part for part in head.split("."))


def _triggers(check: _Checker, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        check.add("triggers", "must be a non-empty list")
        return []
    triggers = []
    for index, trigger in enumerate(value):
        path = f"triggers[{index}]"
        if not isinstance(trigger, dict):
            check.add(path, "must be an object")
            continue
        check.unknown_keys(trigger, TRIGGER_KEYS, path)
        event_type = check.string(trigger.get("event_type"), f"{path}.event_type", max_length=128)
        if event_type is not None and not _event_type_pattern(event_type):
            check.add(f"{path}.event_type", "must be an event type, a prefix pattern like 'ci.*', or '*'")
        source = check.string(trigger.get("source", "*"), f"{path}.source", max_length=128)
        severity = trigger.get("min_severity", Severity.INFO.value)
        if severity not in Severity.values:
            check.add(
                f"{path}.min_severity", f"unknown severity; expected one of {', '.join(Severity.values)}"
            )
        roles = check.string_list(trigger.get("actor_roles"), f"{path}.actor_roles")
        threshold, problems = threshold_fields(trigger)  # count, window_minutes (issue 15)
        check.problems.extend(Problem(f"{path}.{key}", message) for key, message in problems)
        fields = {"event_type": event_type, "source": source, "min_severity": severity, "actor_roles": roles}
        triggers.append({**fields, **threshold})
    return triggers


def _conditions(check: _Checker, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.add("conditions", "must be a list of CEL expressions")
        return []
    conditions = []
    for index, expression in enumerate(value):
        path = f"conditions[{index}]"
        if check.string(expression, path, max_length=2000) is None:
            continue
        conditions.append(expression)
        try:
            program = compile_condition(expression)
        except ConditionProblem as exc:
            check.add(path, f"CEL error: {exc}", publish_only=True)
            continue
        try:
            result = program.execute(check.sample)
        except Exception as exc:  # noqa: BLE001 - any run-time failure on the sample is reported
            check.add(
                path, f"CEL error on the sample context: {type(exc).__name__}: {exc}", publish_only=True
            )
            continue
        if not isinstance(result, bool):
            check.add(path, "must evaluate to a boolean", publish_only=True)
    return conditions


def _rationale(check: _Checker, value: Any, path: str) -> dict[str, str] | None:
    if not isinstance(value, dict):
        check.add(path, "is required (why_relevant, baseline_comparison) for mentor and multiplier actions")
        return None
    check.unknown_keys(value, RATIONALE_KEYS, path)
    return {key: check.template(value.get(key), f"{path}.{key}") for key in sorted(RATIONALE_KEYS)}


def _execution(check: _Checker, value: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        check.add(path, "is required (executor, operation) for multiplier actions")
        return None
    check.unknown_keys(value, EXECUTION_KEYS, path)
    executor = value.get("executor")
    if executor not in EXECUTORS:
        check.add(f"{path}.executor", f"must be one of {', '.join(EXECUTORS)}")
    operation = check.string(value.get("operation"), f"{path}.operation", max_length=100)
    parameters = value.get("parameters", {})
    if not isinstance(parameters, dict):
        check.add(f"{path}.parameters", "must be an object")
    return {"executor": executor, "operation": operation, "parameters": parameters}


def _action(check: _Checker, action: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(action, dict):
        check.add(path, "must be an object")
        return None
    check.unknown_keys(action, ACTION_KEYS, path)
    action_type = action.get("type")
    if action_type not in ActionType.values:
        check.add(f"{path}.type", f"must be one of {', '.join(ActionType.values)}")
    surfaces = check.string_list(action.get("surfaces"), f"{path}.surfaces", tuple(Surface.values))
    if not surfaces:
        check.add(f"{path}.surfaces", "must name at least one surface")
    is_mirror = action_type == ActionType.MIRROR
    spec: dict[str, Any] = {
        "type": action_type,
        "surfaces": surfaces,
        "title": check.template(action.get("title"), f"{path}.title", mirror=is_mirror),
        "body": check.template(action.get("body"), f"{path}.body", mirror=is_mirror),
        "tags": check.string_list(action.get("tags"), f"{path}.tags"),
    }
    priority = action.get("priority", 0.5)
    if isinstance(priority, bool) or not isinstance(priority, int | float) or not 0 <= priority <= 1:
        check.add(f"{path}.priority", "must be a number between 0 and 1")
    spec["priority"] = priority
    if is_mirror:
        for key in ("rationale", "execution", "requires_dual_channel"):
            if key in action:
                check.add(f"{path}.{key}", "not allowed on a mirror action")
    elif action_type in (ActionType.MENTOR, ActionType.MULTIPLIER):
        spec["rationale"] = _rationale(check, action.get("rationale"), f"{path}.rationale")
    if "llm" in action:
        llm = action["llm"]
        if is_mirror:
            check.add(f"{path}.llm", "not allowed on a mirror action (FR-4: safe without LLM content)")
        elif not isinstance(llm, dict):
            check.add(f"{path}.llm", "must be an object with a prompt")
        else:
            check.unknown_keys(llm, LLM_KEYS, f"{path}.llm")
            prompt = check.template(llm.get("prompt"), f"{path}.llm.prompt", action_text=False)  # not shown
            spec["llm"] = {"prompt": prompt}
    if action_type == ActionType.MULTIPLIER:
        spec["execution"] = _execution(check, action.get("execution"), f"{path}.execution")
        dual = action.get("requires_dual_channel", False)
        if not isinstance(dual, bool):
            check.add(f"{path}.requires_dual_channel", "must be a boolean")
        spec["requires_dual_channel"] = dual is True
    elif action_type == ActionType.MENTOR:
        for key in ("execution", "requires_dual_channel"):
            if key in action:
                check.add(f"{path}.{key}", "only multiplier actions have this field")
    return spec


def _section(check: _Checker, validated: tuple[dict[str, Any], list[tuple[str, str]]]) -> dict[str, Any]:
    value, found = validated
    for field, message in found:
        check.add(field, message)
    return value


def validate_playbook(document: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Validate a playbook document; return ``(normalised spec or None, every problem)``.

    Every problem is listed (not only the first): unknown fields, missing fields, CEL that does
    not compile or references unknown names, templates that do not render against a sample
    context, prescriptive Mirror text (FR-4), coercive text in any action (FR-10), and
    type-specific fields (FR-5, FR-6). The spec is None when a problem is structural; with only
    ``publish_only`` problems it is returned too.
    """
    check = _Checker()
    if not isinstance(document, dict):
        return None, [Problem("", "a playbook must be an object")]
    check.unknown_keys(document, TOP_LEVEL_KEYS, "")
    name = check.string(document.get("name"), "name", max_length=MAX_NAME)
    actions_value = document.get("actions")
    actions: list[dict[str, Any]] = []
    if not isinstance(actions_value, list) or not actions_value:
        check.add("actions", "must be a non-empty list")
    else:
        actions = [_action(check, a, f"actions[{i}]") for i, a in enumerate(actions_value)]
    experiment_metadata = document.get("experiment_metadata", {})
    if not isinstance(experiment_metadata, dict):
        check.add("experiment_metadata", "must be an object")
    spec = {
        "name": name,
        "description": check.string(document.get("description", ""), "description", required=False) or "",
        "owner": check.string(document.get("owner", ""), "owner", required=False, max_length=255) or "",
        "triggers": _triggers(check, document.get("triggers")),
        "conditions": _conditions(check, document.get("conditions")),
        "actions": actions,
        "limits": _section(check, validate_limits(document.get("limits"))),
        "routing": _section(check, validate_routing(document.get("routing"))),
        "experiment_metadata": experiment_metadata,
    }
    if any(not problem.publish_only for problem in check.problems):
        return None, check.problems
    return spec, check.problems
