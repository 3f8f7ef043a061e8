"""Fixtures for tests that run a real Celery worker against the real broker."""

from __future__ import annotations

import contextlib

import pytest
from celery import Celery
from django.conf import settings

from mmm_project.celery import app as celery_app
from tests.integration.helpers import closed_port


@pytest.fixture
def worker_app():
    """A Celery app with the project's settings (broker, routes, serializers) and a result store.

    Built fresh so the project app's eager mode in other tests is untouched; shared tasks such as
    ``retention.purge`` register on it when it finalizes.
    """
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping for the ping check

    import tasks  # noqa: F401 - registers the project's shared tasks

    app = Celery("mmm-test-worker", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # Results through the real Redis of services mode (pub/sub: no polling delay).
    # broker_heartbeat=0: the in-thread test worker drains with a blocking loop whose wake-up
    # follows the heartbeat interval (10 s per message otherwise); real prefork workers are
    # unaffected.
    app.conf.update(
        task_always_eager=False,
        task_ignore_result=False,
        result_backend=settings.REDIS_URL,
        broker_heartbeat=0,
    )
    app.finalize()
    assert app.conf.broker_url.startswith("amqp://"), "this test is about RabbitMQ"
    yield app
    # start_worker makes its app the process-wide current app; shared tasks must go back to
    # publishing through the project's app.
    celery_app.set_current()


@pytest.fixture
def through_the_broker():
    """The project app publishes to the real broker (the suite runs tasks eagerly by default)."""
    celery_app.conf.task_always_eager = False
    yield celery_app
    celery_app.conf.task_always_eager = True


def _reset_producers(app: Celery) -> None:
    # What Celery itself does after a fork: drop the cached connection and producer pools.
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None


@contextlib.contextmanager
def broker_unreachable(app: Celery):
    """While inside, the app's publishers connect to a closed port: the broker is down for them."""
    app.conf.broker_write_url = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    _reset_producers(app)
    try:
        yield
    finally:
        app.conf.broker_write_url = None
        _reset_producers(app)
