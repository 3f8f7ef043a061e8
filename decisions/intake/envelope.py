"""The FR-1 signal envelope: its schema and validation, shared by every way a signal comes in.

``POST /v1/mmm/decide`` (its ``signal`` part), ``POST /v1/mmm/signals``, the webhook adapters and the
broker consumer all validate through these DRF serializers, used here as the envelope's schema:
unknown fields, a bad ``ts`` (no zone, or more than ``SIGNAL_TS_MAX_FUTURE_SECONDS`` ahead) or an
unknown severity or ``actor_type`` are refused naming the field.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from decisions.intake.adapters.cloudevents import cloudevent_to_envelope, is_cloudevent
from mmm_project.errors import ApplicationError
from mmm_project.serializers import ActorIdField, StrictSerializer, validate
from mmm_project.vocabulary import ActorType, Severity

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


class SeverityField(serializers.ChoiceField):
    """Severity on the info..critical scale, in lower case; common aliases (warning, error,
    moderate) are accepted and stored as the value they stand for. An enum in the OpenAPI document."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[*Severity.values, *SEVERITY_ALIASES], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        return SEVERITY_ALIASES.get(value, value)


class SignalTimestampField(serializers.DateTimeField):
    """When the signal happened: ISO 8601 with its zone (``Z`` or ``+hh:mm``), at most
    ``SIGNAL_TS_MAX_FUTURE_SECONDS`` ahead of the server's clock (producers' clock skew).

    A time without a zone is refused rather than guessed, and so is a far-future one (year 9999):
    either would misplace the signal in fatigue windows, recent-signal context and retention.
    """

    default_error_messages = {
        "naive": "must include a time zone (Z or +hh:mm)",
        "future": "must be at most {seconds} seconds in the future",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # not ISO 8601: the parent names the problem
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        value = super().to_internal_value(value)
        limit = settings.SIGNAL_TS_MAX_FUTURE_SECONDS
        if value > timezone.now() + timedelta(seconds=limit):
            self.fail("future", seconds=limit)
        return value


class SignalInputSerializer(StrictSerializer):
    """The FR-1 envelope fields a caller may send with a decide request."""

    signal_id = serializers.CharField(max_length=255, required=False)
    source = serializers.CharField(max_length=128)
    event_type = serializers.RegexField(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$", max_length=128)
    severity = SeverityField(required=False, default=Severity.INFO.value)
    ts = SignalTimestampField(required=False)
    payload = serializers.DictField(required=False, default=dict)

    def validate_payload(self, value):
        size = len(json.dumps(value, separators=(",", ":"), default=str).encode())
        if size > MAX_SIGNAL_PAYLOAD_BYTES:
            raise serializers.ValidationError(f"must be at most {MAX_SIGNAL_PAYLOAD_BYTES} bytes as JSON")
        return value


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
    actor_id = ActorIdField()
    actor_type = serializers.ChoiceField(
        choices=ActorType.values, required=False, default=ActorType.HUMAN.value
    )
    ts = SignalTimestampField()
    context = SignalContextSerializer(required=False, default=dict)


def envelope_validate(raw: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Validate one envelope: ``(validated data, {})`` or ``(None, {field: [messages]})``."""
    return validate(SignalEnvelopeSerializer, raw)


def envelopes_validate(items: list[Any], *, tenant_id: str, actor_id: str) -> list[dict[str, Any]]:
    """Validate a batch of envelopes or CloudEvents 1.0 (``specversion`` present) sent with a token
    of ``tenant_id`` and ``actor_id`` (a CloudEvent's defaults).

    All or nothing: one bad item refuses the whole batch, so nothing is half-stored.

    Raises:
        ValidationError: naming ``[index].field`` for every problem (400).
        ApplicationError: ``FORBIDDEN`` (403) for an item of another tenant.
    """
    now = timezone.now()
    envelopes, errors, foreign = [], {}, []
    for index, item in enumerate(items):
        raw = (
            cloudevent_to_envelope(item, tenant_id=tenant_id, actor_id=actor_id, now=now)
            if is_cloudevent(item)
            else item
        )
        envelope, problems = envelope_validate(raw)
        if envelope is None:
            errors[f"[{index}]"] = problems
        elif envelope["tenant_id"] != tenant_id:
            foreign.append(f"[{index}].tenant_id")
        else:
            envelopes.append(envelope)
    if errors:
        raise serializers.ValidationError(errors)
    if foreign:
        raise ApplicationError(
            "FORBIDDEN",
            "Signals may only be sent for the token's tenant.",
            status_code=403,
            fields={name: ["must be the token's tenant"] for name in foreign},
        )
    return envelopes
