"""JSON request parsing: a size limit that holds for every body (chunked ones included), and only
JSON that can be stored (RFC 8259 without its interoperability traps).

Refused with 400 ``MALFORMED_REQUEST`` naming the problem and, where there is one, the field's
path (``{"signal.payload.k": ["contains a NUL character"]}``), before anything is stored:

- ``NaN``, ``Infinity``, ``-Infinity`` and numbers too large for a double (``1e400``): not JSON
  (RFC 8259 section 6), and PostgreSQL's JSONB refuses them;
- NUL characters (``\\u0000``) in keys or strings: PostgreSQL's text and JSONB refuse them;
- lone UTF-16 surrogates (``"\\ud800"``): not Unicode text, they cannot be encoded to UTF-8;
- nesting deeper than ``JSON_MAX_DEPTH`` (a 1,000-level body would exhaust the recursion limit).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from mmm_project.errors import ApplicationError, request_too_large

_SURROGATE = re.compile("[\ud800-\udfff]")


def _malformed(problem: str, fields: dict[str, list[str]] | None = None) -> ApplicationError:
    return ApplicationError(
        "MALFORMED_REQUEST",
        f"The request body is not valid JSON: {problem}.",
        fields=fields or {"body": [problem]},
    )


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _malformed(f"the number {text[:40]} is out of range")
    return value


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if _SURROGATE.search(text):
        return "contains a lone UTF-16 surrogate"
    return None


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def json_check(value: Any, *, max_depth: int) -> None:
    """Refuse NUL characters and lone surrogates in keys and strings, and nesting deeper than
    ``max_depth`` objects or arrays; iterative, so any depth is walked without recursion.

    Raises:
        ApplicationError: ``MALFORMED_REQUEST`` (400) naming the first offending field's path.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            problem = _string_problem(item)
            if problem:
                raise _malformed(f"a string {problem}", {path or "body": [problem]})
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= max_depth:
            problem = f"nested deeper than {max_depth} levels"
            raise _malformed(problem, {path or "body": [problem]})
        if isinstance(item, dict):
            for key, child in item.items():
                problem = _string_problem(key)
                if problem:
                    where = _child_path(path, "<key>")
                    raise _malformed(f"a key {problem}", {where: [f"a key {problem}"]})
                stack.append((child, _child_path(path, key), depth + 1))
        else:
            stack.extend((child, _child_path(path, index), depth + 1) for index, child in enumerate(item))


def json_loads_strict(raw: bytes) -> Any:
    """Parse a UTF-8 JSON document that the service can store (see the module docstring).

    Raises:
        ApplicationError: ``MALFORMED_REQUEST`` (400) naming the problem (and the field's path).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed("the body is not UTF-8") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        problem = f"nested deeper than {settings.JSON_MAX_DEPTH} levels"
        raise _malformed(problem) from exc
    except ValueError as exc:
        raise _malformed("the body is not well-formed JSON") from exc
    json_check(value, max_depth=settings.JSON_MAX_DEPTH)
    return value


class LimitedJSONParser(JSONParser):
    """Parse JSON bodies of at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, strictly.

    Raises:
        ApplicationError: ``REQUEST_TOO_LARGE`` (400, field ``body``) past the limit, before
            any of it is parsed or stored (chunked bodies carry no Content-Length to check);
            ``MALFORMED_REQUEST`` (400) for a body that is not JSON the service can store.
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise request_too_large()
        return json_loads_strict(raw) if raw else {}


class CloudEventsJSONParser(LimitedJSONParser):
    """``application/cloudevents+json`` (structured mode, CloudEvents JSON format section 3)."""

    media_type = "application/cloudevents+json"


class CloudEventsBatchJSONParser(LimitedJSONParser):
    """``application/cloudevents-batch+json`` (a JSON array of events)."""

    media_type = "application/cloudevents-batch+json"
