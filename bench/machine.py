"""What a benchmark records of the shared machine around a measurement: load average, the share of
the CPUs left idle (``/proc/stat``), and the CPU a PostgreSQL backend on this machine has used."""

from __future__ import annotations

import os
import time
from pathlib import Path


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def backend_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend on this machine has used (``/proc``), 0 if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_times() -> list[int]:
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def idle_percent(before: list[int], after: list[int]) -> float:
    """The machine's idle share between two ``cpu_times`` readings (all CPUs)."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return round(100 * (spent[3] + spent[4]) / max(1, sum(spent)), 1)


def wait_for_idle(limit: float, idle: float = 50.0) -> float:
    """Wait up to ``limit`` seconds for a 3 s window with at least ``idle`` % of the CPUs idle."""
    deadline = time.monotonic() + limit
    while True:
        before = cpu_times()
        time.sleep(3)
        share = idle_percent(before, cpu_times())
        if share >= idle or time.monotonic() >= deadline:
            return share
