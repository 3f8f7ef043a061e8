"""Celery's side of observability, connected when the Celery app is imported (``mmm_project.celery``):

- worker and beat log with the project's ``LOGGING`` (JSON lines on stdout, FR-15): a receiver of
  ``setup_logging`` makes Celery leave logging alone (``worker_hijack_root_logger`` is off too);
  the worker's own early warnings and shutdown notices become JSON lines as well;
- the shared ``PROMETHEUS_MULTIPROC_DIR``: ended processes' gauges are dropped at start and at exit.
"""

from __future__ import annotations

import logging
import logging.config
import sys

from celery import signals

from mmm_project.observability.logs import EngineJsonFormatter


def configure_logging() -> None:
    """Apply ``settings.LOGGING`` and route ``warnings`` through it."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


def say_json(msg: str, f: object = None) -> None:
    """Stand-in for ``celery.apps.worker.safe_say``, which prints plain text from signal handlers:
    the same notice as one JSON line, printed (no logging lock taken inside a signal handler)."""
    record = logging.LogRecord("celery.apps.worker", logging.WARNING, __file__, 0, msg.strip(), None, None)
    print(EngineJsonFormatter().format(record), file=sys.__stdout__, flush=True)


@signals.setup_logging.connect
def _json_logging(**kwargs: object) -> None:
    configure_logging()


@signals.celeryd_init.connect
def _json_from_the_start(**kwargs: object) -> None:
    """Sent before the worker checks its privileges (a warning) and installs its signal handlers."""
    from celery.apps import worker as worker_program

    configure_logging()
    worker_program.safe_say = say_json


@signals.worker_init.connect
@signals.beat_init.connect
def _sweep_metrics_dir(**kwargs: object) -> None:
    """Drop the gauges of processes that ended without notice; counts stay (the folder is shared
    with the web processes and never emptied here)."""
    from mmm_project.observability.multiproc import sweep_ended_processes

    sweep_ended_processes()


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _process_metrics_done(**kwargs: object) -> None:
    from mmm_project.observability.multiproc import process_exited

    process_exited()
