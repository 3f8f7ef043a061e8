"""``X-Request-ID``: taken from the request when it is a sane token, else generated; set for the
request's log lines and echoed on the response."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mmm_project.observability.logs import REQUEST_ID

HEADER = "X-Request-ID"
# Letters, digits and ``._:-``, at most 128: anything else (or nothing) gets a fresh id, so a
# caller cannot write arbitrary text into the logs.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """Sets ``request.request_id`` and the log context; adds ``X-Request-ID`` to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if VALID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = request_id
        return response
