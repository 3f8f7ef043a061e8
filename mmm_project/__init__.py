"""MMM Engine project package: settings, URLs, the Celery app, authentication, health endpoints."""

from mmm_project.celery import app as celery_app

__all__ = ("celery_app",)
