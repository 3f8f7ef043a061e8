"""Output shapes of tenant policy (spec 11.5) and actor preferences (spec 11.4)."""

from rest_framework import serializers


class TenantPolicyOutputSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    enabled_surfaces = serializers.ListField(child=serializers.CharField())
    enabled_action_types = serializers.ListField(child=serializers.CharField())
    restrictions = serializers.ListField(child=serializers.CharField())
    quotas = serializers.SerializerMethodField()
    quiet_hours = serializers.SerializerMethodField()
    cooldown_minutes = serializers.IntegerField()
    safety_critical = serializers.BooleanField()
    retention = serializers.SerializerMethodField()
    priorities = serializers.DictField()
    updated_at = serializers.DateTimeField(allow_null=True)

    def get_quotas(self, policy) -> dict:
        return {
            "max_actions_per_hour": policy.max_actions_per_hour,
            "max_actions_per_day": policy.max_actions_per_day,
            "max_actions_per_repo_per_day": policy.max_actions_per_repo_per_day,
            "max_actions_per_decision": policy.max_actions_per_decision,
        }

    def get_quiet_hours(self, policy) -> dict:
        return {"start": policy.quiet_hours_start, "end": policy.quiet_hours_end, "timezone": policy.timezone}

    def get_retention(self, policy) -> dict:
        return {
            "decision_days": policy.decision_retention_days,
            "outcome_days": policy.outcome_retention_days,
        }


class ActorPreferencesOutputSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    actor_id = serializers.CharField()
    opt_out_categories = serializers.ListField(child=serializers.CharField())
    preferred_surfaces = serializers.ListField(child=serializers.CharField())
    snooze_until = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
