"""Decide traffic against a running stack: a fixed set in parallel, or a stream until stopped."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from tests.faults.stack import Stack


def outcome(response: httpx.Response) -> str:
    """``"200"``, or for an error its status and code: ``"503 NOT_READY"``."""
    if response.status_code < 400:
        return str(response.status_code)
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "non-JSON body"
    return f"{response.status_code} {code}"


def _attempt(call: Callable[[], httpx.Response]) -> str:
    try:
        return outcome(call())
    except httpx.HTTPError as exc:  # no answer at all: counted, never a pass
        return f"no answer ({type(exc).__name__})"


def decide_all(stack: Stack, tenant_id: str, signal_ids: Iterable[str], threads: int = 4) -> Counter:
    """Decide on each signal id (``threads`` connections); count the outcomes."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = pool.map(lambda sid: (sid, _attempt(lambda: stack.decide(tenant_id, sid))), signal_ids)
        return Counter(result for _, result in results)


@dataclass
class DecideStream:
    """Decides with fresh signal ids on ``threads`` connections until ``stop()``.

    ``marks`` splits the outcomes into phases (``mark("outage")``): each phase counts its own.
    ``answered`` keeps the signal ids answered 200, the decisions the caller must find stored.
    """

    stack: Stack
    tenant_id: str
    threads: int = 4
    phases: dict[str, Counter] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)
    phase: str = "before"
    sent: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)]

    def start(self) -> DecideStream:
        for worker in self._workers:
            worker.start()
        return self

    def mark(self, phase: str) -> None:
        with self._lock:
            self.phase = phase

    def _run(self, number: int) -> None:
        index = 0
        while not self._stop.is_set():
            signal_id = f"{self.tenant_id}-{number}-{index}"
            index += 1
            with self._lock:
                phase = self.phase
                self.sent += 1
            result = _attempt(lambda sid=signal_id: self.stack.decide(self.tenant_id, sid))
            with self._lock:
                self.phases.setdefault(phase, Counter())[result] += 1
                if result == "200":
                    self.answered.append(signal_id)

    def stop(self) -> dict[str, Counter]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)
        return self.phases

    def count(self, phase: str, result: str) -> int:
        with self._lock:
            return self.phases.get(phase, Counter())[result]
