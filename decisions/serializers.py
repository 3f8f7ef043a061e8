"""Request and response shapes of the decision endpoints (spec 11.1, 11.3, FR-1)."""

from __future__ import annotations

import re

from rest_framework import serializers

from decisions.intake.envelope import SignalInputSerializer
from mmm_project.serializers import NON_BLANK_PATTERN, ActorIdField, QuerySerializer, StrictSerializer
from mmm_project.vocabulary import ActorType, OutcomeResult, Surface
from playbooks.serializers import ProblemSerializer


class ContextInputSerializer(StrictSerializer):
    repo_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    branch = serializers.CharField(max_length=255, required=False, allow_blank=True)
    file_path = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    environment = serializers.CharField(max_length=64, required=False, allow_blank=True)
    roles = serializers.ListField(child=serializers.CharField(max_length=64), max_length=50, required=False)
    surface = serializers.ChoiceField(choices=["ide", "ci"], required=False)
    team_id = serializers.CharField(
        max_length=255, required=False, help_text="Unit of team-scoped experiments."
    )


class DecideInputSerializer(StrictSerializer):
    """``POST /v1/mmm/decide`` body (spec 11.1)."""

    tenant_id = serializers.CharField(max_length=128)
    actor_id = ActorIdField(required=False)
    actor_type = serializers.ChoiceField(choices=ActorType.values, required=False)
    context = ContextInputSerializer(required=False, default=dict)
    signal = SignalInputSerializer()


class OutcomeInputSerializer(StrictSerializer):
    """``POST /v1/mmm/decisions/{decision_id}/outcomes`` body (spec 11.3)."""

    action_id = serializers.UUIDField()
    result = serializers.ChoiceField(choices=OutcomeResult.values)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    actor_id = ActorIdField(required=False)
    # A dismissal or a failure says why: a reason with a character that is not white space.
    openapi_schema = {
        "oneOf": [
            {"properties": {"result": {"enum": ["shown", "ignored", "accepted"]}}},
            {
                "properties": {
                    "result": {"enum": ["dismissed", "failed"]},
                    "reason": {"pattern": NON_BLANK_PATTERN},
                },
                "required": ["reason"],
            },
        ]
    }

    def validate(self, attrs):
        explained = re.search(NON_BLANK_PATTERN, attrs["reason"])
        if attrs["result"] in (OutcomeResult.DISMISSED, OutcomeResult.FAILED) and not explained:
            raise serializers.ValidationError({"reason": [f"is required when result is {attrs['result']}"]})
        return attrs


class ActionOutputSerializer(serializers.Serializer):
    """One action: ``{"action_id", "type", "surfaces", "payload", "requires_consent", ...}``."""

    action_id = serializers.UUIDField(source="id")
    type = serializers.CharField()
    surfaces = serializers.ListField(child=serializers.CharField())
    payload = serializers.DictField()
    surface_payloads = serializers.DictField()
    requires_consent = serializers.BooleanField()
    requires_dual_channel = serializers.BooleanField()
    status = serializers.ChoiceField(
        choices=["active", "pending_content", "suppressed", "rejected"],
        help_text="suppressed: the LLM safety check failed after the decision (never shown); rejected: "
        "dual-channel approval refused; pending_content: LLM content being written.",
    )
    status_reason = serializers.CharField(allow_null=True)


_DATETIME = serializers.DateTimeField()


def action_representation(action) -> dict:
    """``ActionOutputSerializer``'s shape built directly: the decide hot path skips DRF's per-instance
    field copies (NFR-1); a test keeps the two equal."""
    return {
        "action_id": str(action.id),
        "type": action.type,
        "surfaces": [str(surface) for surface in action.surfaces],
        "payload": dict(action.payload),
        "surface_payloads": dict(action.surface_payloads),
        "requires_consent": bool(action.requires_consent),
        "requires_dual_channel": bool(action.requires_dual_channel),
        "status": action.status,
        "status_reason": action.status_reason,
    }


class DecisionOutputSerializer(serializers.Serializer):
    """A decision as the actor may see it: no suppressed actions, no internal context.

    The declared fields document the shape (OpenAPI); ``to_representation`` builds it directly.
    """

    def to_representation(self, instance):
        return {
            "decision_id": str(instance.id),
            "tenant_id": instance.tenant_id,
            "actor_id": instance.actor_id,
            "actor_type": instance.actor_type,
            "actions": [action_representation(action) for action in instance.actions.all()],
            "created_at": _DATETIME.to_representation(instance.created_at),
            "policy_snapshot_id": instance.policy_snapshot_id,
            "degraded_mode": bool(instance.degraded_mode),
            "policy_stale": bool(instance.policy_stale),
            "latency_warning": bool(instance.latency_warning),
        }

    decision_id = serializers.UUIDField(source="id")
    tenant_id = serializers.CharField()
    actor_id = serializers.CharField()
    actor_type = serializers.CharField()
    actions = ActionOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    policy_snapshot_id = serializers.CharField()
    degraded_mode = serializers.BooleanField()
    policy_stale = serializers.BooleanField()
    latency_warning = serializers.BooleanField()


class NudgesQuerySerializer(QuerySerializer):
    surface = serializers.ChoiceField(choices=Surface.values, required=False, default=Surface.IDE.value)
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)


class DecisionEnvelopeSerializer(serializers.Serializer):
    decision = DecisionOutputSerializer()


class OutcomeAcceptedSerializer(serializers.Serializer):
    outcome_id = serializers.UUIDField()
    decision_id = serializers.UUIDField()
    action_id = serializers.UUIDField()
    result = serializers.CharField(
        help_text="The result reported (shown, ignored, dismissed, accepted, failed)."
    )
    status = serializers.ChoiceField(choices=["accepted"])


class NudgeSerializer(serializers.Serializer):
    action_id = serializers.UUIDField()
    decision_id = serializers.UUIDField()
    type = serializers.CharField()
    payload = serializers.DictField(help_text="This surface's payload (ide: pill and card).")
    requires_consent = serializers.BooleanField()
    requires_dual_channel = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class NudgesSerializer(serializers.Serializer):
    actor_id = serializers.CharField()
    surface = serializers.ChoiceField(choices=Surface.values)
    nudges = NudgeSerializer(many=True)


class ExecutionStatusSerializer(serializers.Serializer):
    action_id = serializers.UUIDField()
    type = serializers.CharField()
    may_execute = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why not, when it may not.")
    requires_consent = serializers.BooleanField()
    consent_recorded = serializers.BooleanField()
    requires_dual_channel = serializers.BooleanField()
    approval_status = serializers.CharField(allow_null=True)


class RejectInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class AggregatesSerializer(serializers.Serializer):
    decisions_total = serializers.IntegerField()
    actions_total = serializers.IntegerField()
    actions_by_type = serializers.DictField(child=serializers.IntegerField())
    outcomes_total = serializers.IntegerField()
    outcomes_by_result = serializers.DictField(child=serializers.IntegerField())
    suppressed_by_reason = serializers.DictField(child=serializers.IntegerField())


class TenantMetricsSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    period = PeriodSerializer()
    aggregates = AggregatesSerializer()


class MetricsQuerySerializer(QuerySerializer):
    start_date = serializers.DateTimeField(required=False)
    end_date = serializers.DateTimeField(required=False)


class DryRunInputSerializer(StrictSerializer):
    """``POST /v1/mmm/playbooks/dry-run`` body: a draft and one signal, or stored signal ids."""

    playbook = serializers.DictField()
    signal = SignalInputSerializer(required=False)
    context = ContextInputSerializer(required=False, default=dict)
    actor_id = ActorIdField(required=False)
    signal_ids = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, min_length=1, max_length=100
    )
    openapi_schema = {"oneOf": [{"required": ["signal"]}, {"required": ["signal_ids"]}]}

    def validate(self, attrs):
        if ("signal" in attrs) == ("signal_ids" in attrs):
            raise serializers.ValidationError({"signal": ["give either signal or signal_ids"]})
        return attrs


class DryRunEntrySerializer(serializers.Serializer):
    signal_id = serializers.CharField()
    matched = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    actions = serializers.ListField(child=serializers.DictField())
    suppressed = serializers.ListField(child=serializers.DictField())


class DryRunOutputSerializer(serializers.Serializer):
    results = DryRunEntrySerializer(many=True)
    problems = ProblemSerializer(many=True)


class TriggerConditionSerializer(serializers.Serializer):
    expression = serializers.CharField()
    result = serializers.BooleanField(allow_null=True, help_text="null when it could not be evaluated")
    error = serializers.CharField(allow_null=True)


class TriggerCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="fitting signals in the window, this one included, at most needed"
    )
    needed = serializers.IntegerField(help_text="the trigger's count")
    beyond = serializers.BooleanField(help_text="more than needed: a later signal than the Nth")
    window_minutes = serializers.IntegerField()
    event_type = serializers.CharField(help_text="the trigger's event type pattern")
    source = serializers.CharField(help_text="the trigger's source, or *")
    text = serializers.CharField(help_text="the same in a plain sentence")


class TriggerPlaybookSerializer(serializers.Serializer):
    playbook_id = serializers.UUIDField()
    playbook_version = serializers.IntegerField()
    name = serializers.CharField()
    matched_triggers = serializers.ListField(child=serializers.DictField())
    roles_fit = serializers.BooleanField()
    trigger_count = TriggerCountSerializer(
        allow_null=True,
        help_text="Count triggers (issue 15): the fitting signals of the repository seen and needed; "
        "null for a playbook without one",
    )
    conditions = TriggerConditionSerializer(many=True)
    reason = serializers.CharField(allow_null=True, help_text="why it does not fire; null when it fires")
    actions = serializers.ListField(child=serializers.DictField(), help_text="what would reach the actor now")
    suppressed = serializers.ListField(
        child=serializers.DictField(), help_text="what a gate would drop, and why"
    )
    policy_overrides = serializers.ListField(
        child=serializers.DictField(), help_text="override windows or exceptions that lifted a restriction"
    )


class TriggerSignalSerializer(serializers.Serializer):
    signal_id = serializers.CharField()
    source = serializers.CharField()
    event_type = serializers.CharField()
    severity = serializers.CharField()


class TriggerEvaluationSerializer(serializers.Serializer):
    """``POST /v1/mmm/triggers/evaluate`` answer (FR-1): nothing was stored."""

    tenant_id = serializers.CharField()
    actor_id = serializers.CharField()
    actor_type = serializers.CharField()
    signal = TriggerSignalSerializer()
    policy_snapshot_id = serializers.CharField()
    degraded_mode = serializers.BooleanField()
    playbooks_fired = TriggerPlaybookSerializer(many=True)
    playbooks_not_fired = TriggerPlaybookSerializer(many=True)
