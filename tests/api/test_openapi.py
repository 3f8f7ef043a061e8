"""OpenAPI 3 document (drf-spectacular): valid, complete, with the shared error body."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

NOT_API = {"/v1/mmm/openapi.json", "/v1/mmm/docs"}  # the document and its viewer


@pytest.fixture(scope="module")
def document():
    return APIClient().get("/v1/mmm/openapi.json").json()


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if route.startswith("v1/mmm/") and not route.startswith("^"):
                view = entry.callback.view_class if hasattr(entry.callback, "view_class") else None
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), view


def test_document_is_valid_openapi_3():
    response = APIClient().get("/v1/mmm/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_the_document_is_the_same_each_time_it_is_served():
    # Generating it must not change anything it is built from (a schema fragment of a serializer
    # was once rewritten in place, so the second document referenced a component it lacked).
    first = APIClient().get("/v1/mmm/openapi.json").json()
    second = APIClient().get("/v1/mmm/openapi.json").json()
    assert second == first
    validate(second)


def test_generation_has_no_warnings():
    # --fail-on-warn turns any unresolved serializer or type hint into an error
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())


def test_every_route_and_method_is_documented(document):
    routes = list(_routes(get_resolver().url_patterns))
    assert len(routes) > 20
    for path, view in routes:
        if path in NOT_API:
            continue
        assert path in document["paths"], path
        methods = {m for m in ("get", "post", "put", "delete") if view and hasattr(view, m)}
        assert methods <= set(document["paths"][path]), (path, methods)


def test_operations_declare_the_error_body(document):
    error_ref = "#/components/schemas/Error"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for code in ("400", "404", "500"):
                content = operation["responses"][code]["content"]["application/json"]["schema"]
                assert content == {"$ref": error_ref}, (path, method, code)
            if any("bearerAuth" in requirement for requirement in operation.get("security", [])):
                assert {"401", "403"} <= set(operation["responses"]), (path, method)


def test_bearer_security_scheme(document):
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert "security" not in document["paths"]["/v1/mmm/health"]["get"] or document["paths"][
        "/v1/mmm/health"
    ]["get"]["security"] in ([], [{}])


def test_swagger_ui_is_served_without_a_cdn():
    page = APIClient().get("/v1/mmm/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html.lower()
    assert "cdn.jsdelivr" not in html
