"""A real HTTP server around the Django WSGI application, on a thread of the test process.

It serves the test database (``transactional_db``), counts every answer by status, and closes each
worker thread's database connections after its request so none outlives the test database.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.wsgi import get_wsgi_application
from django.db import connections
from werkzeug.serving import WSGIRequestHandler, make_server


class CountingApp:
    """The Django WSGI application, counting answers by status code (thread-safe)."""

    def __init__(self) -> None:
        self.app = get_wsgi_application()
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        def counting_start_response(status, headers, exc_info=None):
            with self._lock:
                self.statuses[int(status.split()[0])] += 1
            return start_response(status, headers, exc_info)

        try:
            response = self.app(environ, counting_start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            connections.close_all()

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request (thousands of them)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@contextmanager
def serving(app: CountingApp) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL; ``TEST_SERVER_PORT`` picks the port
    (default: any free one)."""
    port = int(os.environ.get("TEST_SERVER_PORT", "0"))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
