"""The Celery application: configuration from Django settings (``CELERY_*``), tasks from ``tasks/``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")

app = Celery("mmm_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in the top-level ``tasks`` package (DESIGN.md layout), not in the apps.
app.autodiscover_tasks(lambda: ["tasks"], related_name=None)
