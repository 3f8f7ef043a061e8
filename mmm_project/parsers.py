"""JSON request parsing with a size limit that holds for every body, chunked ones included."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from mmm_project.errors import request_too_large


class LimitedJSONParser(JSONParser):
    """Parse JSON bodies of at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes.

    Raises:
        ApplicationError: ``REQUEST_TOO_LARGE`` (400, field ``body``) past the limit, before
            any of it is parsed or stored (chunked bodies carry no Content-Length to check).
        ParseError: malformed JSON (400 ``MALFORMED_REQUEST``).
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise request_too_large()
        try:
            return json.loads(raw.decode(settings.DEFAULT_CHARSET)) if raw else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError("The request body is not valid JSON.") from exc


class CloudEventsJSONParser(LimitedJSONParser):
    """``application/cloudevents+json`` (structured mode, CloudEvents JSON format section 3)."""

    media_type = "application/cloudevents+json"


class CloudEventsBatchJSONParser(LimitedJSONParser):
    """``application/cloudevents-batch+json`` (a JSON array of events)."""

    media_type = "application/cloudevents-batch+json"
