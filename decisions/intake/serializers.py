"""Request and response shapes of the intake endpoints (spec 11.9): signals, webhooks, endpoints.

The envelope itself (what a signal is) is ``decisions.intake.envelope``.
"""

from __future__ import annotations

from rest_framework import serializers

from decisions.intake.models import WebhookProvider
from mmm_project.serializers import StrictSerializer


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.ListField(child=serializers.CharField(), help_text="Signal ids stored now.")
    duplicates = serializers.ListField(child=serializers.CharField(), help_text="Already stored; not again.")


class WebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "ignored"])
    signal_id = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)


class AlertmanagerResultSerializer(IngestResultSerializer):
    ignored = serializers.ListField(child=serializers.CharField())


class WebhookEndpointInputSerializer(StrictSerializer):
    provider = serializers.ChoiceField(choices=WebhookProvider.values)
    name = serializers.CharField(max_length=200)
    routes = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)


class WebhookEndpointOutputSerializer(serializers.Serializer):
    endpoint_id = serializers.UUIDField()
    provider = serializers.CharField()
    name = serializers.CharField()
    active = serializers.BooleanField()
    routes = serializers.ListField(child=serializers.CharField())


class WebhookEndpointSecretSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(
        help_text="GitHub: the webhook secret; Alertmanager: the bearer token. Shown once."
    )
