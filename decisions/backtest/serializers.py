"""Request and response shapes of playbook backtests (issue 15)."""

from __future__ import annotations

from rest_framework import serializers

from decisions.backtest.services import DEFAULT_DAYS, MAX_DAYS
from mmm_project.serializers import StrictSerializer


class BacktestInputSerializer(StrictSerializer):
    """``POST /v1/mmm/playbooks/{id}/backtest``: a version (default the latest, draft or published)
    over the last ``days`` days (default 14, at most 30)."""

    version = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, required=False, default=DEFAULT_DAYS)


class CountsSerializer(serializers.Serializer):
    delivered = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    suppressed_by_reason = serializers.DictField(child=serializers.IntegerField())


class PlaybookCountsSerializer(CountsSerializer):
    delivered_by_type = serializers.DictField(child=serializers.IntegerField())


class DayCountsSerializer(CountsSerializer):
    date = serializers.DateField()


class ActorCountsSerializer(serializers.Serializer):
    actor = serializers.CharField(help_text="A pseudonym, keyed per backtest")
    delivered = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    max_delivered_per_day = serializers.IntegerField()


class SpreadSerializer(serializers.Serializer):
    p50 = serializers.IntegerField()
    p90 = serializers.IntegerField()
    max = serializers.IntegerField()


class PerActorSerializer(serializers.Serializer):
    actors = serializers.IntegerField()
    delivered_per_actor_day = SpreadSerializer()
    actors_listed = ActorCountsSerializer(many=True)


class OverlapSerializer(serializers.Serializer):
    playbook_id = serializers.UUIDField()
    name = serializers.CharField()
    signals_both_matched = serializers.IntegerField()


class SignalCountsSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()
    fitting = serializers.IntegerField(help_text="Signals a trigger of the playbook fits")
    matched = serializers.IntegerField(help_text="Signals whose roles and conditions held too")


class WindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    days = serializers.IntegerField(required=False)


class BacktestResultSerializer(serializers.Serializer):
    playbook_id = serializers.UUIDField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    window = WindowSerializer()
    signals = SignalCountsSerializer()
    playbook = PlaybookCountsSerializer(help_text="The tested playbook's actions")
    all_playbooks = CountsSerializer(help_text="Every playbook's actions, the tested version included")
    per_day = DayCountsSerializer(many=True)
    per_actor = PerActorSerializer()
    busiest_actors = ActorCountsSerializer(many=True)
    overlap = OverlapSerializer(many=True)
    elapsed_seconds = serializers.FloatField()


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class BacktestStateSerializer(serializers.Serializer):
    backtest_id = serializers.UUIDField()
    tenant_id = serializers.CharField()
    playbook_id = serializers.UUIDField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed"])
    progress = ProgressSerializer()
    window = WindowSerializer()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    result = BacktestResultSerializer(allow_null=True)
