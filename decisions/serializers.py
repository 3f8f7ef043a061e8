"""Output shapes shared by the decision endpoints (spec 11.1 response)."""

from rest_framework import serializers


class ActionOutputSerializer(serializers.Serializer):
    """One action: ``{"action_id", "type", "surfaces", "payload", "requires_consent", ...}``."""

    action_id = serializers.UUIDField(source="id")
    type = serializers.CharField()
    surfaces = serializers.ListField(child=serializers.CharField())
    payload = serializers.DictField()
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
