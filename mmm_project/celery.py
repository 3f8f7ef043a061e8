"""The Celery application: configuration from Django settings (``CELERY_*``), tasks from ``tasks/``."""

import os
import sys

from celery import Celery, signals

from mmm_project import tracing
from mmm_project.observability import celery_signals  # noqa: F401 - JSON logs, shared metrics folder
from mmm_project.processes import worker as processes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")

app = Celery("mmm_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in the top-level ``tasks`` package (DESIGN.md layout), not in the apps.
app.autodiscover_tasks(lambda: ["tasks"], related_name=None)
tracing.connect_celery(signals)  # FR-15: once per worker process and in beat
processes.connect_celery(signals)  # memory and database connections of each pool process


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_to_start(**kwargs: object) -> None:
    """Worker and beat stop before consuming anything when production secrets are missing or bad.

    Celery logs and swallows exceptions raised by signal handlers, so this exits the process.
    """
    import django
    from django.core.management.base import SystemCheckError

    django.setup()
    from mmm_project.checks import refuse_to_start

    try:
        refuse_to_start()
    except SystemCheckError as exc:
        print(exc, file=sys.__stderr__, flush=True)  # Celery may have redirected sys.stderr
        raise SystemExit(1) from exc
