"""Request and response shapes of tenant policy (spec 11.5) and actor preferences (spec 11.4)."""

from __future__ import annotations

from zoneinfo import available_timezones

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mmm_project.serializers import StrictSerializer
from mmm_project.vocabulary import ActionType, Surface
from preferences.selectors import tenant_policy_state


class QuotasSerializer(serializers.Serializer):
    max_actions_per_hour = serializers.IntegerField()
    max_actions_per_day = serializers.IntegerField()
    max_actions_per_repo_per_day = serializers.IntegerField()
    max_actions_per_decision = serializers.IntegerField()


class QuietHoursSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Hour 0-23, local time")
    end = serializers.IntegerField(help_text="Hour 0-23, local time")
    timezone = serializers.CharField(help_text="IANA time zone")


class RetentionSerializer(serializers.Serializer):
    decision_days = serializers.IntegerField()
    outcome_days = serializers.IntegerField()


class LLMPolicySerializer(serializers.Serializer):
    daily_token_budget = serializers.IntegerField(
        allow_null=True, help_text="Tokens a UTC day; null: no limit"
    )
    daily_cost_budget = serializers.CharField(
        allow_null=True, help_text="Cost a UTC day, in the gateway's unit (decimal string); null: no limit"
    )
    system_prompt_id = serializers.CharField(help_text="The LLM Gateway's system prompt; empty: its default")


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
    priorities = serializers.DictField(child=serializers.FloatField())
    dual_channel_tags = serializers.ListField(child=serializers.CharField())
    dual_channel_approvers = serializers.ListField(child=serializers.CharField())
    override_windows = serializers.ListField(child=serializers.DictField())
    exception_approvals = serializers.ListField(child=serializers.DictField())
    llm = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(QuotasSerializer)
    def get_quotas(self, policy) -> dict[str, int]:
        return tenant_policy_state(policy)["quotas"]

    @extend_schema_field(QuietHoursSerializer)
    def get_quiet_hours(self, policy) -> dict[str, object]:
        return tenant_policy_state(policy)["quiet_hours"]

    @extend_schema_field(LLMPolicySerializer)
    def get_llm(self, policy) -> dict[str, object]:
        return tenant_policy_state(policy)["llm"]

    @extend_schema_field(RetentionSerializer)
    def get_retention(self, policy) -> dict[str, int]:
        return tenant_policy_state(policy)["retention"]


class QuotasInputSerializer(StrictSerializer):
    max_actions_per_hour = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    max_actions_per_day = serializers.IntegerField(min_value=0, max_value=10000, required=False)
    max_actions_per_repo_per_day = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    max_actions_per_decision = serializers.IntegerField(min_value=0, max_value=20, required=False)


class QuietHoursInputSerializer(StrictSerializer):
    start = serializers.IntegerField(min_value=0, max_value=23)
    end = serializers.IntegerField(min_value=0, max_value=23)
    timezone = serializers.CharField(required=False)

    def validate_timezone(self, value: str) -> str:
        if value not in available_timezones():
            raise serializers.ValidationError("unknown IANA time zone")
        return value


class RetentionInputSerializer(StrictSerializer):
    decision_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    outcome_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class LLMPolicyInputSerializer(StrictSerializer):
    """FR-5, FR-13: the LLM budgets (null lifts a limit) and the gateway's system prompt id."""

    daily_token_budget = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, allow_null=True, required=False
    )
    daily_cost_budget = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=0, allow_null=True, required=False
    )
    system_prompt_id = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$", max_length=255, allow_blank=True, required=False
    )


class OverrideWindowInputSerializer(StrictSerializer):
    """FR-11: while open, ``lift`` restrictions are not applied and ``restrict`` ones are added."""

    window_id = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=100)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    lift = serializers.ListField(child=serializers.CharField(max_length=100), max_length=50, default=list)
    restrict = serializers.ListField(child=serializers.CharField(max_length=100), max_length=50, default=list)

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": ["must be after starts_at"]})
        if not attrs["lift"] and not attrs["restrict"]:
            raise serializers.ValidationError({"lift": ["give restrictions to lift or to restrict"]})
        return {**attrs, "starts_at": attrs["starts_at"].isoformat(), "ends_at": attrs["ends_at"].isoformat()}


class ExceptionApprovalInputSerializer(StrictSerializer):
    """FR-11: an approved exception lifts one restriction, for a repository and/or playbook, until
    it expires."""

    exception_id = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=100)
    restriction = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField()
    repo_id = serializers.CharField(max_length=255, required=False)
    playbook_id = serializers.UUIDField(required=False, format="hex_verbose")

    def validate(self, attrs):
        attrs = {**attrs, "expires_at": attrs["expires_at"].isoformat()}
        if "playbook_id" in attrs:
            attrs["playbook_id"] = str(attrs["playbook_id"])
        return attrs


LLM_FIELDS = {  # the API's llm.* names -> model fields
    "daily_token_budget": "llm_daily_token_budget",
    "daily_cost_budget": "llm_daily_cost_budget",
    "system_prompt_id": "system_prompt_id",
}


def _choices(choices) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=choices), required=False)


class TenantPolicyInputSerializer(StrictSerializer):
    """``PUT /v1/mmm/tenants/{tenant_id}/policy``: omitted fields keep their value."""

    enabled_surfaces = _choices(Surface.values)
    enabled_action_types = _choices(ActionType.values)
    restrictions = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    quotas = QuotasInputSerializer(required=False)
    quiet_hours = QuietHoursInputSerializer(required=False)
    cooldown_minutes = serializers.IntegerField(min_value=0, max_value=43200, required=False)
    safety_critical = serializers.BooleanField(required=False)
    retention = RetentionInputSerializer(required=False)
    priorities = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=10), required=False
    )
    dual_channel_tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    dual_channel_approvers = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False
    )
    llm = LLMPolicyInputSerializer(required=False)
    override_windows = OverrideWindowInputSerializer(many=True, required=False, max_length=50)
    exception_approvals = ExceptionApprovalInputSerializer(many=True, required=False, max_length=200)

    openapi_schema = {"minProperties": 1}

    def validate(self, attrs):
        if not attrs:  # an empty PUT changes nothing: no receipt, no audit line
            raise serializers.ValidationError({"body": ["give at least one field to change"]})
        return attrs

    def to_changes(self) -> dict[str, object]:
        """The validated request as model field names."""
        data = dict(self.validated_data)
        changes = dict(data.pop("quotas", {}))
        quiet = data.pop("quiet_hours", None)
        if quiet:
            changes.update(quiet_hours_start=quiet["start"], quiet_hours_end=quiet["end"])
            if "timezone" in quiet:
                changes["timezone"] = quiet["timezone"]
        retention = data.pop("retention", {})
        if "decision_days" in retention:
            changes["decision_retention_days"] = retention["decision_days"]
        if "outcome_days" in retention:
            changes["outcome_retention_days"] = retention["outcome_days"]
        for name, value in data.pop("llm", {}).items():
            changes[LLM_FIELDS[name]] = value
        changes.update(data)
        return changes


class UUIDStringField(serializers.UUIDField):
    """A UUID given as a JSON string (DRF's UUIDField reads false or 0 as the nil UUID)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return str(super().to_internal_value(data))


class MutedPlaybookSerializer(StrictSerializer):
    """A "less like this" mute: the playbook's actions are not delivered to the actor until ``until``."""

    playbook_id = UUIDStringField()
    until = serializers.DateTimeField()


class ActorPreferencesOutputSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    actor_id = serializers.CharField()
    opt_out_categories = serializers.ListField(child=serializers.CharField())
    preferred_surfaces = serializers.ListField(child=serializers.CharField())
    snooze_until = serializers.DateTimeField(allow_null=True)
    muted_playbooks = MutedPlaybookSerializer(many=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class ActorPreferencesInputSerializer(StrictSerializer):
    """``PUT /v1/mmm/actors/{actor_id}/preferences``: omitted fields keep their value."""

    opt_out_categories = _choices(ActionType.values)
    preferred_surfaces = _choices(Surface.values)
    snooze_until = serializers.DateTimeField(required=False, allow_null=True)
    muted_playbooks = MutedPlaybookSerializer(many=True, required=False, help_text="Replaces the mutes.")
    openapi_schema = {"minProperties": 1}

    def validate_muted_playbooks(self, value):
        return [{"playbook_id": m["playbook_id"], "until": m["until"].isoformat()} for m in value]

    def validate(self, attrs):
        if not attrs:  # an empty PUT changes nothing: no receipt, no audit line
            raise serializers.ValidationError({"body": ["give at least one field to change"]})
        return attrs


class SnoozeInputSerializer(StrictSerializer):
    """``POST .../preferences/snooze``: exactly one of ``duration_hours`` (1-720) or ``until``."""

    duration_hours = serializers.IntegerField(min_value=1, max_value=720, required=False)
    until = serializers.DateTimeField(required=False)
    openapi_schema = {"oneOf": [{"required": ["duration_hours"]}, {"required": ["until"]}]}

    def validate(self, attrs):
        if ("duration_hours" in attrs) == ("until" in attrs):
            raise serializers.ValidationError(
                {"duration_hours": ["give exactly one of duration_hours or until"]}
            )
        return attrs
