"""Request and response shapes of the decision endpoints (spec 11.1, 11.3, FR-1)."""

from __future__ import annotations

import json

from rest_framework import serializers

from decisions.models import ActorType, OutcomeResult, Severity, Surface
from mmm_project.serializers import StrictSerializer

MAX_SIGNAL_PAYLOAD_BYTES = 64 * 1024

# Severities other producers use, mapped onto the engine's scale.
SEVERITY_ALIASES = {
    "none": "info",
    "informational": "info",
    "note": "low",
    "minor": "low",
    "warning": "medium",
    "warn": "medium",
    "moderate": "medium",
    "error": "high",
    "major": "high",
    "page": "critical",
    "fatal": "critical",
}


class SeverityField(serializers.CharField):
    """Severity on the info..critical scale; common aliases (warning, error, moderate) accepted."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().lower()
        value = SEVERITY_ALIASES.get(value, value)
        if value not in Severity.values:
            raise serializers.ValidationError(
                f"unknown severity; expected one of {', '.join(Severity.values)}"
            )
        return value


class SignalInputSerializer(StrictSerializer):
    """The FR-1 envelope fields a caller may send with a decide request."""

    signal_id = serializers.CharField(max_length=255, required=False)
    source = serializers.CharField(max_length=128)
    event_type = serializers.RegexField(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$", max_length=128)
    severity = SeverityField(required=False, default=Severity.INFO.value)
    ts = serializers.DateTimeField(required=False)
    payload = serializers.DictField(required=False, default=dict)

    def validate_payload(self, value):
        size = len(json.dumps(value, separators=(",", ":"), default=str).encode())
        if size > MAX_SIGNAL_PAYLOAD_BYTES:
            raise serializers.ValidationError(f"must be at most {MAX_SIGNAL_PAYLOAD_BYTES} bytes as JSON")
        return value


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
    actor_id = serializers.CharField(max_length=255, required=False)
    actor_type = serializers.ChoiceField(choices=ActorType.values, required=False)
    context = ContextInputSerializer(required=False, default=dict)
    signal = SignalInputSerializer()


class OutcomeInputSerializer(StrictSerializer):
    """``POST /v1/mmm/decisions/{decision_id}/outcomes`` body (spec 11.3)."""

    action_id = serializers.UUIDField()
    result = serializers.ChoiceField(choices=OutcomeResult.values)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    actor_id = serializers.CharField(max_length=255, required=False)

    def validate(self, attrs):
        if attrs["result"] in (OutcomeResult.DISMISSED, OutcomeResult.FAILED) and not attrs["reason"].strip():
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


class DecisionOutputSerializer(serializers.Serializer):
    """A decision as the actor may see it: no suppressed actions, no internal context."""

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


class NudgesQuerySerializer(StrictSerializer):
    surface = serializers.ChoiceField(choices=Surface.values, required=False, default=Surface.IDE.value)
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)


class DecisionEnvelopeSerializer(serializers.Serializer):
    decision = DecisionOutputSerializer()


class OutcomeAcceptedSerializer(serializers.Serializer):
    outcome_id = serializers.UUIDField()
    decision_id = serializers.UUIDField()
    action_id = serializers.UUIDField()
    result = serializers.ChoiceField(choices=OutcomeResult.values)
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


class MetricsQuerySerializer(StrictSerializer):
    start_date = serializers.DateTimeField(required=False)
    end_date = serializers.DateTimeField(required=False)


class SignalContextSerializer(StrictSerializer):
    repo_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    branch = serializers.CharField(max_length=255, required=False, allow_blank=True)
    file_path = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    environment = serializers.CharField(max_length=64, required=False, allow_blank=True)
    team_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    roles = serializers.ListField(child=serializers.CharField(max_length=64), max_length=50, required=False)


class SignalEnvelopeSerializer(SignalInputSerializer):
    """The FR-1 envelope as producers send it (``POST /v1/mmm/signals``, broker topics, adapters)."""

    signal_id = serializers.CharField(max_length=255)
    tenant_id = serializers.CharField(max_length=128)
    actor_id = serializers.CharField(max_length=255)
    actor_type = serializers.ChoiceField(
        choices=ActorType.values, required=False, default=ActorType.HUMAN.value
    )
    ts = serializers.DateTimeField()
    context = SignalContextSerializer(required=False, default=dict)
