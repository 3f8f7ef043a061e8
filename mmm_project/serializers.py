"""Serializer building blocks shared by the APIs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


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


class QuerySerializer(serializers.Serializer):
    """Query-string parameters, validated like a JSON body: an empty value (``?surface=``) is a
    value to validate (refused by a choice or a non-blank field, never read as "absent"), and a
    parameter given twice is refused. Undeclared parameters are ignored, as HTTP caches and
    proxies add their own; the OpenAPI document lists the declared ones.

    Pass ``request.query_params`` as ``data``.
    """

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "lists"):  # a QueryDict: one plain value per declared parameter
            repeated = {
                name: ["give it once"]
                for name, values in data.lists()
                if name in self.fields and len(values) > 1
            }
            if repeated:
                raise serializers.ValidationError(repeated)
            data = {name: data[name] for name in data if name in self.fields}
        return super().to_internal_value(data)
