"""Celery tasks, one module per domain; each task is a thin wrapper over a service function."""

from tasks import backtest, delivery, ingest, llm, privacy, receipts, retention  # noqa: F401  (registers the tasks)
