"""Response shapes of the explanation endpoints and the feedback request (issue 15)."""

from __future__ import annotations

from rest_framework import serializers

from decisions.serializers import TriggerCountSerializer
from mmm_project.serializers import StrictSerializer
from mmm_project.vocabulary import Feedback


class ExplainedSignalSerializer(serializers.Serializer):
    signal_id = serializers.CharField(allow_null=True)
    type = serializers.CharField(allow_null=True, help_text="The signal's event type.")
    source = serializers.CharField(allow_null=True)
    severity = serializers.CharField(allow_null=True)
    ts = serializers.CharField(allow_null=True, help_text="ISO 8601, UTC")
    text = serializers.CharField()


class ExplainedPlaybookSerializer(serializers.Serializer):
    playbook_id = serializers.UUIDField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    text = serializers.CharField()
    trigger_count = TriggerCountSerializer(
        allow_null=True,
        help_text="A count trigger (issue 15): the fitting signals of the repository it waited for.",
    )


class ExplainedConditionSerializer(serializers.Serializer):
    expression = serializers.CharField()
    held = serializers.BooleanField(allow_null=True)
    text = serializers.CharField()


class ExplainedGateSerializer(serializers.Serializer):
    gate = serializers.ChoiceField(choices=["policy", "preferences", "quiet_hours", "fatigue", "routing"])
    passed = serializers.BooleanField()
    text = serializers.CharField()


class ExplainedExperimentSerializer(serializers.Serializer):
    experiment_id = serializers.UUIDField(allow_null=True)
    variant = serializers.CharField()
    type = serializers.ChoiceField(choices=["ab", "bandit"], help_text="bandit: Thompson sampling (FR-9).")
    text = serializers.CharField()


class ExplainedLLMSerializer(serializers.Serializer):
    status = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    prompt_hash = serializers.CharField(allow_null=True)
    safety_verdict = serializers.CharField(allow_null=True)
    risk_flags = serializers.ListField(child=serializers.CharField())
    receipt_id = serializers.UUIDField(allow_null=True)
    text = serializers.CharField()


class ActionExplanationSerializer(serializers.Serializer):
    action_id = serializers.UUIDField()
    decision_id = serializers.UUIDField()
    type = serializers.CharField()
    status = serializers.CharField()
    summary = serializers.CharField()
    signal = ExplainedSignalSerializer()
    playbook = ExplainedPlaybookSerializer(allow_null=True)
    conditions = ExplainedConditionSerializer(many=True)
    gates = ExplainedGateSerializer(many=True)
    experiment = ExplainedExperimentSerializer(allow_null=True)
    evidence_handles = serializers.ListField(child=serializers.CharField())
    llm = ExplainedLLMSerializer(allow_null=True)
    degraded_mode = serializers.BooleanField()
    receipt_id = serializers.UUIDField(allow_null=True, help_text="The decision receipt that attests it.")


class ExplainedSuppressionSerializer(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    playbook_id = serializers.CharField(allow_null=True)
    playbook_name = serializers.CharField()
    playbook_version = serializers.IntegerField(allow_null=True)
    action_index = serializers.IntegerField(allow_null=True)
    reason_code = serializers.CharField(help_text="A Suppression code, or playbook.not_evaluated.")
    text = serializers.CharField()


class ExplainedActionSerializer(serializers.Serializer):
    action_id = serializers.UUIDField()
    type = serializers.CharField()
    surfaces = serializers.ListField(child=serializers.CharField())
    route_reason = serializers.CharField(
        allow_blank=True,
        help_text="FR-3: routing.escalated when the playbook's escalation chose the surface.",
    )


class DecisionExplanationSerializer(serializers.Serializer):
    decision_id = serializers.UUIDField()
    signal = ExplainedSignalSerializer()
    delivered = ExplainedActionSerializer(many=True)
    suppressed = ExplainedSuppressionSerializer(many=True)
    degraded_mode = serializers.BooleanField()
    receipt_id = serializers.UUIDField(allow_null=True)


class FeedbackInputSerializer(StrictSerializer):
    """``POST /v1/mmm/actions/{action_id}/feedback``: ``less_like_this`` mutes the playbook (``scope``
    ``playbook``, for ``duration_days``) or opts out of the action type (``scope`` ``action_type``)."""

    feedback = serializers.ChoiceField(choices=Feedback.values)
    scope = serializers.ChoiceField(choices=["playbook", "action_type"], required=False, default="playbook")
    duration_days = serializers.IntegerField(min_value=1, max_value=365, required=False, default=30)


class FeedbackOutputSerializer(serializers.Serializer):
    outcome_id = serializers.UUIDField()
    action_id = serializers.UUIDField()
    feedback = serializers.ChoiceField(choices=Feedback.values)
    receipt_id = serializers.UUIDField()
    muted_playbook_id = serializers.UUIDField(allow_null=True)
    muted_until = serializers.DateTimeField(allow_null=True)
    opted_out_type = serializers.CharField(allow_null=True)
