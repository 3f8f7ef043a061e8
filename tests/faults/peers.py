"""Peers as real local HTTP servers on private ports, each switchable between up and down (503)."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.faults.instances import free_port
from tests.peers import FakeEris


def serve() -> HTTPServer:
    """A threaded local HTTP server on a free port of the fault suite's range (caller stops it)."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server.start()
    return server


class SwitchableEris(FakeEris):
    """``tests.peers.FakeEris`` (one receipt per idempotency key) that answers 503 while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refused = 0

    def handle(self, request: Request) -> Response:
        if self.down:
            with self._lock:
                self.refused += 1
            return Response(status=503)
        return super().handle(request)

    def duplicates(self) -> int:
        """Receipts sent again after ERIS had stored them (the idempotency key absorbs it; counted)."""
        return sum(count - 1 for count in Counter(self.deliveries).values())


class FakePolicy:
    """Policy & Config ``POST /v1/policy/tenants/{id}/evaluate`` (spec 12.7): a snapshot, or 503."""

    path = re.compile(r"^/v1/policy/tenants/(?P<tenant>[^/]+)/evaluate$")

    def __init__(self) -> None:
        self.down = False
        self.requests = 0
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
        if self.down:
            return Response(status=503)
        tenant = self.path.match(request.path)["tenant"]
        body = {
            "allowed": True,
            "policy_snapshot_id": f"snap-{tenant}",
            "policy_version_ids": [f"snap-{tenant}"],
            "restrictions": [],
            "override_windows": [],
        }
        return Response(json.dumps(body), status=200, content_type="application/json")

    def install(self, server: HTTPServer) -> str:
        server.expect_request(self.path, method="POST").respond_with_handler(self.handle)
        return server.url_for("/").rstrip("/")
