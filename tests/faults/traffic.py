"""Decide traffic against a running stack: a fixed set in parallel, or a stream until stopped."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from tests.faults.stack import Stack


def outcome(response: httpx.Response) -> str:
    """``"200"``, or for an error its status and code, and what is not ready: ``"503 NOT_READY cache"``."""
    if response.status_code < 400:
        return str(response.status_code)
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} non-JSON body"
    fields = ",".join(sorted(error.get("fields") or {})) if error["code"] == "NOT_READY" else ""
    return f"{response.status_code} {error['code']} {fields}".rstrip()


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
class Stream:
    """Requests with fresh signal ids on ``threads`` connections until ``stop()``: decides, or
    (``kind="signals"``) one-signal posts to ``/v1/mmm/signals``.

    ``mark(phase)`` starts a new phase (``"outage"``); each counts its own outcomes. ``answered``
    keeps the signal ids answered 200 (decided) or 202 (accepted): the ones that must be decided.
    """

    stack: Stack
    tenant_id: str
    kind: str = "decide"
    threads: int = 4
    phases: dict[str, Counter] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)
    phase: str = "before"
    sent: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)
        ]

    def start(self) -> Stream:
        for worker in self._workers:
            worker.start()
        return self

    def mark(self, phase: str) -> None:
        with self._lock:
            self.phase = phase

    def _call(self, signal_id: str) -> httpx.Response:
        if self.kind == "signals":
            return self.stack.post_signals(self.tenant_id, [signal_id])
        return self.stack.decide(self.tenant_id, signal_id)

    def _run(self, number: int) -> None:
        index = 0
        while not self._stop.is_set():
            signal_id = f"{self.kind}-{number}-{index}"
            index += 1
            with self._lock:
                phase = self.phase
                self.sent += 1
            result = _attempt(lambda sid=signal_id: self._call(sid))
            with self._lock:
                self.phases.setdefault(phase, Counter())[result] += 1
                if result in ("200", "202"):
                    self.answered.append(signal_id)
            if result not in ("200", "202"):
                time.sleep(0.02)  # an error answers at once: do not spin

    def stop(self) -> dict[str, Counter]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)
        return self.phases

    def count(self, phase: str, *results: str) -> int:
        """How many answers of ``phase`` were one of ``results`` (any answer without ``results``)."""
        with self._lock:
            counter = self.phases.get(phase, Counter())
            return sum(counter[r] for r in results) if results else sum(counter.values())

    def last(self, phase: str) -> Counter:
        with self._lock:
            return Counter(self.phases.get(phase, Counter()))
