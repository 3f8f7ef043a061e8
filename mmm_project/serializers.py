"""Serializer building blocks shared by the APIs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from mmm_project.privacy import EMAIL_MESSAGE, looks_like_email


class StrictSerializer(serializers.Serializer):
    """A Serializer that refuses fields it does not declare (typos must not pass silently)."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors: dict[str, Any] = {name: ["unknown field"] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Report unknown fields together with the declared fields' own errors.
            if not isinstance(exc.detail, dict):
                raise
            errors.update(exc.detail)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ActorIdField(serializers.CharField):
    """An actor id: at most 255 characters, never an e-mail address."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if looks_like_email(value):
            raise serializers.ValidationError(EMAIL_MESSAGE)
        return value
