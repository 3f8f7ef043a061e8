"""What every peer client shares (spec 15.1, 15.6): httpx, a timeout, a circuit breaker, a metric.

``PeerClient(name, url_setting, timeout_setting)`` reads its base URL and timeout from
settings at call time (unset URL: the peer is not configured and the embedded default applies);
a peer whose settings are not in ``mmm_project.settings`` (given ``default_timeout``) reads the
same names from the environment (``.env`` included), settings overriding them (tests).
The breaker (pybreaker) opens after 5 consecutive failures, stays open 60 s
(``PEER_BREAKER_RESET_SECONDS``), then lets one trial call through (half-open); its state is
exported as ``mmm_circuit_breaker_state{service_name, state}`` (1 for the current state, 0 for the
others).

Calls on the decide path are made once: the latency budget (NFR-1) leaves no room for retries,
and the breaker and caches absorb failures. Background callers (Celery tasks) retry.
"""

from __future__ import annotations

import threading
from typing import Any

import environ
import httpx
import pybreaker
from django.conf import settings
from prometheus_client import Gauge

from mmm_project.clients import PeerRejected, PeerUnavailable

TRANSIENT_STATUSES = {408, 425, 429}
BREAKER_STATES = ("closed", "open", "half-open")

BREAKER_STATE = Gauge(
    "mmm_circuit_breaker_state",
    "Circuit breaker state of each peer (1 = current).",
    ["service_name", "state"],
    # Each process has its own breaker; across the live processes of a host a state is 1 when
    # any process is in it (so "open" is 1 while some process has stopped calling the peer).
    multiprocess_mode="livemax",
)

_local = threading.local()
_env = environ.Env()
REGISTRY: dict[str, PeerClient] = {}


def _http() -> httpx.Client:
    # One pooled client per thread, created lazily so forked workers do not share sockets.
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client()
    return client


class _StateMetric(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        _export(cb.name, new_state.name)


def _export(name: str, current: str) -> None:
    for state in BREAKER_STATES:
        BREAKER_STATE.labels(name, state).set(1 if state == current else 0)


class PeerClient:
    """One peer service: base URL and timeout from settings, a breaker, JSON in and out."""

    def __init__(
        self, name: str, *, url_setting: str, timeout_setting: str, default_timeout: float | None = None
    ) -> None:
        self.name = name
        self.url_setting = url_setting
        self.timeout_setting = timeout_setting
        self.default_timeout = default_timeout  # None: both settings are in mmm_project.settings
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=5,
            reset_timeout=settings.PEER_BREAKER_RESET_SECONDS,
            exclude=[PeerRejected],
            name=name,
            listeners=[_StateMetric()],
        )
        _export(name, "closed")
        REGISTRY[name] = self

    @property
    def base_url(self) -> str:
        if self.default_timeout is None:
            return getattr(settings, self.url_setting)
        return getattr(settings, self.url_setting, None) or _env.str(self.url_setting, default="")

    @property
    def timeout(self) -> float:
        if self.default_timeout is None:
            return getattr(settings, self.timeout_setting)
        found = getattr(settings, self.timeout_setting, None)
        return found if found is not None else _env.float(self.timeout_setting, default=self.default_timeout)

    @property
    def configured(self) -> bool:
        return bool(self.base_url)

    @property
    def state(self) -> str:
        return self.breaker.current_state

    def reset(self) -> None:
        self.breaker.close()
        _export(self.name, "closed")

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = _http().request(
                method,
                self.base_url.rstrip("/") + path,
                timeout=self.timeout,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"{self.name} unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status >= 500 or status in TRANSIENT_STATUSES:
            raise PeerUnavailable(f"{self.name} answered HTTP {status}")
        if status == 409:
            return None  # already done under this idempotency key
        if status >= 400:
            raise PeerRejected(f"{self.name} refused the request: HTTP {status}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise PeerUnavailable(f"{self.name} answered with a body that is not JSON") from exc

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request through the breaker; JSON body, or None for an empty answer or a 409.

        Raises:
            PeerUnavailable: not configured, timeout, connection error, 5xx, 408/425/429, a body
                that is not JSON, or the breaker is open.
            PeerRejected: any other 4xx.
        """
        if not self.configured:
            raise PeerUnavailable(f"{self.name} is not configured")
        try:
            return self.breaker.call(self._request, method, path, **kwargs)
        except pybreaker.CircuitBreakerError as exc:
            raise PeerUnavailable(f"{self.name} circuit breaker is open") from exc
