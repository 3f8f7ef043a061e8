"""One ``PROMETHEUS_MULTIPROC_DIR`` shared by every process of a host (gunicorn workers, Celery
workers, beat, the intake consumer), so that one scrape of ``/v1/mmm/metrics`` counts what each did.

The folder is never emptied when a process starts: a worker started after gunicorn (or gunicorn
restarted under running workers) keeps everyone's counts. Counters and histograms of processes that
ended stay in it (they are totals; merged sums never go down); the live gauges of ended processes
(and their per-pid ``all`` gauges) are removed when a process exits and again
when any process kind starts (``sweep_ended_processes``), for processes killed without notice.
Empty it only while every process is stopped (or put it on a tmpfs, emptied at boot).

In this mode the answering process's ``python_gc_*`` and ``python_info`` and every live process's
``process_*`` (with a ``pid`` label) are added to the scrape (``LiveProcessesCollector``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, GCCollector, Metric, PlatformCollector, ProcessCollector
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.registry import Collector

FILE_PID = re.compile(r"_(\d+)\.db$")


def metrics_dir() -> str | None:
    """The multiprocess folder of this process, or None when metrics are per process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def pids_in(directory: str) -> set[int]:
    """Process ids that wrote metric files into ``directory``."""
    return {
        int(match.group(1)) for path in Path(directory).glob("*.db") if (match := FILE_PID.search(path.name))
    }


def _forget_gauges(pid: int, directory: str) -> None:
    mark_process_dead(pid, directory)  # the live* gauge modes
    # "all" gauges are one series per pid: an ended process's are stale, not history.
    (Path(directory) / f"gauge_all_{pid}.db").unlink(missing_ok=True)


def sweep_ended_processes(directory: str | None = None) -> None:
    """Drop the per-process gauge files of processes that no longer run; counters stay."""
    directory = directory or metrics_dir()
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    for pid in pids_in(directory):
        if not process_alive(pid):
            _forget_gauges(pid, directory)


def process_exited(pid: int | None = None) -> None:
    """Bookkeeping when a process of the folder ends (gunicorn ``child_exit``, Celery shutdown)."""
    directory = metrics_dir()
    if directory:
        _forget_gauges(pid or os.getpid(), directory)


class LiveProcessesCollector(Collector):
    """``process_*`` of every live process of the multiprocess folder, labelled ``pid``, plus this
    process's GC and platform metrics (multiprocess mode otherwise has neither)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        # Both register themselves somewhere: a private registry, read through them directly.
        own = CollectorRegistry()
        self.own_process = (GCCollector(registry=own), PlatformCollector(registry=own))

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for pid in sorted(p for p in pids_in(self.directory) if process_alive(p)):
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)
            for family in collector.collect():
                target = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    target.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from merged.values()
        for collector in self.own_process:
            yield from collector.collect()
