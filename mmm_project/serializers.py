"""Serializer building blocks shared by the APIs."""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from rest_framework import serializers

from mmm_project.privacy import EMAIL_MESSAGE, looks_like_email

# A character that is white space in no regular-expression dialect the document meets (Python's
# str.isspace, Rust's and ECMA-262's \s): what a non-blank string must contain.
NON_BLANK_PATTERN = r"[^\s\x1c-\x1f]"

# The JSON type each field class takes, checked before DRF's coercion (which reads 0 as "0",
# "12" as 12 and "yes" as true, where the OpenAPI document says string, integer, boolean).
# Subclasses first: a ChoiceField is checked as a string, a BooleanField never as an integer.
_JSON_TYPES: tuple[tuple[type[serializers.Field], tuple[type, ...], str], ...] = (
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.CharField, (str,), "a string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.DateTimeField, (str,), "a string"),
    (serializers.ListField, (list,), "an array"),
    (serializers.ListSerializer, (list,), "an array"),
    (serializers.DictField, (dict,), "an object"),
    (serializers.Serializer, (dict,), "an object"),
)


def json_type_problem(field: serializers.Field, value: Any) -> str | None:
    """``"must be a string"`` (etc.) when ``value`` is not of the JSON type ``field`` documents."""
    if value is None:
        return None  # allow_null decides
    for field_class, types, name in _JSON_TYPES:
        if isinstance(field, field_class):
            wrong_bool = isinstance(value, bool) and bool not in types
            return f"must be {name}" if wrong_bool or not isinstance(value, types) else None
    return None


class StrictSerializer(serializers.Serializer):
    """A Serializer that refuses fields it does not declare (typos must not pass silently) and
    values of another JSON type than the field's (no silent coercion)."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors: dict[str, Any] = {name: ["unknown field"] for name in unknown}
        if isinstance(data, dict):
            for name, field in self.fields.items():
                problem = json_type_problem(field, data[name]) if name in data else None
                if problem:
                    errors[name] = [problem]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Report unknown fields together with the declared fields' own errors.
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


_prototypes = threading.local()

S = TypeVar("S", bound=serializers.Serializer)


def validate(serializer_class: type[S], data: Any) -> tuple[Any, dict[str, Any]]:
    """``(validated data, {})`` or ``(None, errors)``: what ``serializer_class(data=data)``'s
    ``is_valid()`` and ``validated_data`` / ``errors`` give, without a new serializer per call.

    DRF deep-copies every declared field for each serializer instance (two thirds of the
    decide body's validation, NFR-1); valid input is checked here by one instance per class and thread,
    whose bound fields keep no per-call state (``run_validation`` stores nothing on the
    instance). Invalid input goes through a fresh serializer, so errors are DRF's own, word for word.
    """
    cache = _prototypes.__dict__
    prototype = cache.get(serializer_class)
    if prototype is None:
        prototype = cache[serializer_class] = serializer_class()
    try:
        return prototype.run_validation(data), {}
    except serializers.ValidationError:
        pass
    serializer = serializer_class(data=data)
    if serializer.is_valid():  # not expected: the prototype refused it
        return serializer.validated_data, {}
    return None, serializer.errors


def validated(serializer_class: type[S], data: Any) -> Any:
    """``validate``'s data, or ``ValidationError`` (400) with DRF's errors for ``data``, as
    ``serializer_class(data=data).is_valid(raise_exception=True)`` raises it."""
    value, errors = validate(serializer_class, data)
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
