"""OpenAPI 3 generation (drf-spectacular): bearer JWT security and the shared error body.

Every operation documents its error responses with the one error body
``{"error": {"code", "message", "fields"}}``: 400, 404 and 500 everywhere, 401 and 403 where a
token is required. Request bodies of ``StrictSerializer`` classes are ``additionalProperties:
false`` (unknown fields are refused), and a serializer's ``openapi_schema`` (a dict of JSON Schema
keywords such as ``oneOf``) states what its ``validate`` enforces across fields.
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

from mmm_project.serializers import NON_BLANK_PATTERN, StrictSerializer


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable code, e.g. VALIDATION_ERROR, NOT_FOUND, POLICY_UNAVAILABLE."
    )
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field problems, keyed by the field's path (e.g. signal.ts).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    "400": "Invalid request; the fields named are at fault.",
    "401": "No token, or an expired or invalid one.",
    "403": "The token lacks the scope or role this needs.",
    "404": "Not found for this tenant (another tenant's ids are 404 too).",
    "500": "Internal error.",
}


def _non_blank(field: serializers.Field, schema: dict[str, Any] | None) -> None:
    """A string DRF trims and refuses when blank must hold a non-white-space character."""
    if schema is None:
        return
    if isinstance(field, serializers.ListField):
        _non_blank(field.child, schema.get("items"))
    elif (
        type(field) is serializers.CharField
        and field.trim_whitespace
        and not field.allow_blank
        and "pattern" not in schema
    ):
        schema["pattern"] = NON_BLANK_PATTERN


class MMMAutoSchema(AutoSchema):
    """AutoSchema adding the shared error responses to every operation and stating in request
    schemas what ``StrictSerializer`` and cross-field validation enforce."""

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        instance = force_instance(serializer)
        if direction == "request" and isinstance(instance, StrictSerializer):
            schema["additionalProperties"] = False
            # A copy: drf-spectacular's enum post-processing rewrites the document in place, and
            # must not rewrite the serializer's own fragment for the next generation.
            schema.update(copy.deepcopy(getattr(instance, "openapi_schema", {})))
            for name, field in instance.fields.items():
                _non_blank(field, schema.get("properties", {}).get(name))
        return schema

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        authenticated = bool(getattr(self.view, "authentication_classes", None)) and not getattr(
            self.view, "public", False
        )
        codes = ["400", "404", "500"] + (["401", "403"] if authenticated else [])
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


class BearerJWTScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <JWT>`` (claims sub, tenant_id, actor_type, roles, scope, exp)."""

    target_class = "mmm_project.auth.authentication.BearerJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
