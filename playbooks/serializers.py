"""Output shape of a playbook (spec 11.2): metadata plus the content of its latest version."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from decisions.engine.language import NON_COERCION_CATEGORIES, PRESCRIPTIVE_CATEGORY
from decisions.engine.thresholds import MAX_TRIGGER_COUNT, MAX_WINDOW_MINUTES, MIN_TRIGGER_COUNT
from mmm_project.serializers import StrictSerializer
from mmm_project.vocabulary import Severity


class PlaybookTriggerSerializer(StrictSerializer):
    """One trigger (FR-3; ``count``/``window_minutes``: issue 15, ``decisions.engine.thresholds``)."""

    event_type = serializers.CharField(max_length=128, help_text="Exact, a prefix pattern 'ci.*', or '*'.")
    source = serializers.CharField(max_length=128, required=False, default="*")
    min_severity = serializers.ChoiceField(choices=Severity.values, required=False, default="info")
    actor_roles = serializers.ListField(child=serializers.CharField(), required=False)
    count = serializers.IntegerField(
        min_value=MIN_TRIGGER_COUNT,
        max_value=MAX_TRIGGER_COUNT,
        required=False,
        help_text="With window_minutes: fire from the Nth signal fitting this trigger on the same "
        "repository (any actor of the tenant) within window_minutes, this one included, and for each "
        "later one while the window holds N (the playbook's cool-down spaces them).",
    )
    window_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_MINUTES, required=False, help_text="Required with count."
    )


class PlaybookOutputSerializer(serializers.Serializer):
    playbook_id = serializers.UUIDField(source="id")
    tenant_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField(source="latest_version")
    published_version = serializers.SerializerMethodField()
    triggers = serializers.SerializerMethodField()
    conditions = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    routing = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def _latest(self, playbook):
        return self.context["latest_versions"].get(playbook.id)

    def _content(self, playbook, name, empty):
        version = self._latest(playbook)
        return getattr(version, name) if version is not None else empty

    def get_published_version(self, playbook) -> int | None:
        published = playbook.published_version
        return published.version if published is not None else None

    @extend_schema_field(PlaybookTriggerSerializer(many=True))
    def get_triggers(self, playbook) -> list:
        return self._content(playbook, "triggers", [])

    def get_conditions(self, playbook) -> list:
        return self._content(playbook, "conditions", [])

    def get_actions(self, playbook) -> list:
        return self._content(playbook, "actions", [])

    def get_limits(self, playbook) -> dict:
        return self._content(playbook, "limits", {})

    def get_routing(self, playbook) -> dict:
        return self._content(playbook, "routing", {})


class ProblemSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()
    category = serializers.ChoiceField(
        choices=[*NON_COERCION_CATEGORIES, PRESCRIPTIVE_CATEGORY],
        allow_null=True,
        help_text="For language findings (FR-4, FR-10); null for other problems.",
    )


class PlaybookWithProblemsSerializer(PlaybookOutputSerializer):
    problems = ProblemSerializer(many=True, help_text="What would stop the latest version from publishing.")


class PlaybookLimitsSerializer(StrictSerializer):
    """The playbook's cool-down and its own quotas per actor (FR-7), on top of the tenant's."""

    cooldown_minutes = serializers.IntegerField(min_value=0, max_value=43200, required=False)
    max_actions_per_hour = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    max_actions_per_day = serializers.IntegerField(min_value=1, max_value=10000, required=False)


CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PlaybookQuietHoursSerializer(StrictSerializer):
    """The playbook's own quiet hours (FR-3), on top of the tenant's; ``start == end``: none."""

    start = serializers.RegexField(CLOCK_PATTERN, help_text='"HH:MM" local time')
    end = serializers.RegexField(CLOCK_PATTERN, help_text='"HH:MM" local time; the window may cross midnight')
    timezone = serializers.CharField(required=False, help_text="IANA time zone; the tenant's otherwise")


class PlaybookEscalationSerializer(StrictSerializer):
    """After ``after_unacknowledged`` deliveries to the actor on the repository with no acknowledging
    outcome, the playbook's next action goes to ``surface`` instead (FR-3; never a Multiplier)."""

    after_unacknowledged = serializers.IntegerField(min_value=1, max_value=100)
    surface = serializers.ChoiceField(choices=["alert"], required=False, default="alert")


class PlaybookRoutingSerializer(StrictSerializer):
    """Routing rules (FR-3): see docs/playbook-routing.md."""

    quiet_hours = PlaybookQuietHoursSerializer(required=False)
    escalation = PlaybookEscalationSerializer(required=False)


class PlaybookDocumentSerializer(StrictSerializer):
    """The playbook format (see playbooks/spec.py): its shape for the OpenAPI document; the content
    (CEL conditions, templates, action rules) is validated by ``playbooks.spec``, naming each field.
    """

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True)
    tenant_id = serializers.CharField(required=False, help_text="Ignored: the token's tenant.")
    version = serializers.IntegerField(required=False, help_text="Ignored: versions are assigned.")
    triggers = PlaybookTriggerSerializer(many=True, min_length=1)
    conditions = serializers.ListField(child=serializers.CharField(), required=False)
    actions = serializers.ListField(child=serializers.DictField(), min_length=1)
    limits = PlaybookLimitsSerializer(required=False)
    routing = PlaybookRoutingSerializer(required=False)
    experiment_metadata = serializers.DictField(required=False)


class PlaybookChangeSerializer(PlaybookDocumentSerializer):
    """``PUT``: the fields to change (at least one); omitted fields keep their value."""

    name = serializers.CharField(max_length=200, required=False)
    triggers = PlaybookTriggerSerializer(many=True, min_length=1, required=False)
    actions = serializers.ListField(child=serializers.DictField(), min_length=1, required=False)
    openapi_schema = {"minProperties": 1}
