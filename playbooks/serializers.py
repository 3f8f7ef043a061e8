"""Output shape of a playbook (spec 11.2): metadata plus the content of its latest version."""

from rest_framework import serializers


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

    def get_triggers(self, playbook) -> list:
        return self._content(playbook, "triggers", [])

    def get_conditions(self, playbook) -> list:
        return self._content(playbook, "conditions", [])

    def get_actions(self, playbook) -> list:
        return self._content(playbook, "actions", [])

    def get_limits(self, playbook) -> dict:
        return self._content(playbook, "limits", {})


class ProblemSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class PlaybookWithProblemsSerializer(PlaybookOutputSerializer):
    problems = ProblemSerializer(many=True, help_text="What would stop the latest version from publishing.")


class PlaybookDocumentSerializer(serializers.Serializer):
    """The playbook format (see playbooks/spec.py); validated by the engine, not by this class."""

    name = serializers.CharField()
    description = serializers.CharField(required=False)
    owner = serializers.CharField(required=False)
    triggers = serializers.ListField(child=serializers.DictField())
    conditions = serializers.ListField(child=serializers.CharField(), required=False)
    actions = serializers.ListField(child=serializers.DictField())
    limits = serializers.DictField(required=False)
