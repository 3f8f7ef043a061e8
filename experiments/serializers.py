"""Request and response shapes of the experiments API (spec 11.6; ``type: bandit`` is FR-9)."""

from __future__ import annotations

from rest_framework import serializers

from experiments.models import AssignmentScope, ExperimentType
from mmm_project.serializers import StrictSerializer


class VariantSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    weight = serializers.FloatField(
        min_value=0.001, max_value=1_000_000, required=False, help_text="Required for type ab."
    )
    playbook_version = serializers.IntegerField(min_value=1, required=False)
    actions = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=20, required=False
    )


class ExperimentInputSerializer(StrictSerializer):
    """``POST /v1/mmm/experiments`` (all required but description) and ``PUT`` (all optional)."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    playbook_id = serializers.UUIDField()
    type = serializers.ChoiceField(
        choices=ExperimentType.values,
        required=False,
        help_text="ab (default): a fixed variant per actor or team by weight. bandit (FR-9): a variant "
        "per decision by Thompson sampling over the tenant's acceptance posteriors.",
    )
    assignment_scope = serializers.ChoiceField(choices=AssignmentScope.values, required=False)
    variants = VariantSerializer(many=True, min_length=2, max_length=10)
    control_variant = serializers.CharField(max_length=100, required=False)


class ExperimentUpdateSerializer(ExperimentInputSerializer):
    playbook_id = None  # an experiment stays on its playbook

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class ExperimentOutputSerializer(serializers.Serializer):
    experiment_id = serializers.UUIDField(source="id")
    tenant_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    type = serializers.CharField()
    playbook_id = serializers.UUIDField(allow_null=True)
    assignment_scope = serializers.CharField()
    variants = serializers.ListField(child=serializers.DictField())
    control_variant = serializers.CharField()
    activated_at = serializers.DateTimeField(allow_null=True)
    deactivated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExperimentWithResultsSerializer(ExperimentOutputSerializer):
    results = serializers.DictField(
        child=serializers.DictField(),
        help_text="Per variant: decisions, actions, actions_by_type, outcomes_by_result; for a "
        "bandit also posterior {alpha, beta, mean, pulls, successes, failures} (aggregates only).",
    )
