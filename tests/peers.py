"""Real local HTTP servers playing the peer services' contracts (pytest-httpserver handlers)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from werkzeug import Request, Response


class FakeEris:
    """ERIS ``POST /v1/evidence/receipts`` (spec 12.6): stores each receipt once per idempotency key.

    ``script`` lists what the next requests get before normal service: an HTTP status to answer
    without storing, or ``"store_then_503"`` (stored, but the answer is lost: the sender must retry
    and ERIS must not store it twice). ``delay`` seconds are slept before answering.
    """

    path = "/v1/evidence/receipts"

    def __init__(self) -> None:
        self.stored: dict[str, dict] = {}
        self.deliveries: list[str] = []
        self.script: list[int | str] = []
        self.delay = 0.0
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        body = request.get_json(silent=True)
        key = request.headers.get("Idempotency-Key", "")
        with self._lock:
            self.deliveries.append(key)
            step = self.script.pop(0) if self.script else None
            if not isinstance(body, dict) or key != body.get("receipt_id"):
                return Response(json.dumps({"error": "Idempotency-Key must equal receipt_id"}), status=400)
            if isinstance(step, int):
                return Response(status=step)
            duplicate = key in self.stored
            self.stored.setdefault(key, body)
        if step == "store_then_503":
            return Response(status=503)
        status = 200 if duplicate else 201
        return Response(
            json.dumps({"receipt_id": key, "duplicate": duplicate}),
            status=status,
            content_type="application/json",
        )

    def install(self, httpserver) -> str:
        """Serve this fake on ``httpserver``; return the base URL to configure."""
        httpserver.expect_request(self.path, method="POST").respond_with_handler(self.handle)
        return httpserver.url_for("/").rstrip("/")

    def delivery_counts(self) -> Counter:
        return Counter(self.deliveries)


class FakeAlerting:
    """Alerting & Notification ``POST /api/v1/notifications/mmm`` (spec 12.4), idempotent on the key.

    ``script`` lists HTTP statuses the next requests get before normal service.
    """

    path = "/api/v1/notifications/mmm"

    def __init__(self) -> None:
        self.notifications: dict[str, dict] = {}
        self.requests: list[str] = []
        self.script: list[int] = []
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        key = request.headers.get("Idempotency-Key", "")
        with self._lock:
            self.requests.append(key)
            if self.script:
                return Response(status=self.script.pop(0))
            if not isinstance(body, dict) or key != body.get("notification_id"):
                return Response(status=400)
            self.notifications.setdefault(key, body)
        return Response(
            json.dumps({"notification_id": key, "channels": ["chat"]}),
            status=202,
            content_type="application/json",
        )

    def install(self, httpserver) -> str:
        httpserver.expect_request(self.path, method="POST").respond_with_handler(self.handle)
        return httpserver.url_for("/").rstrip("/")
