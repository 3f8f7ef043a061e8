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
    # CELERY_DB_REUSE_MAX=None: Celery's own default, database connections closed around each task.
    # The in-thread worker's connections belong to its thread and would outlive it (production
    # workers keep theirs between tasks: tests/faults/test_worker_connections.py).
    app.conf.update(
        task_always_eager=False,
        task_ignore_result=False,
        result_backend=settings.REDIS_URL,
        broker_heartbeat=0,
        CELERY_DB_REUSE_MAX=None,
    )
    app.finalize()
    assert app.conf.broker_url.startswith("amqp://"), "this test is about RabbitMQ"
    yield app
    # start_worker makes its app the process-wide current and default app; shared tasks must go
    # back to publishing through the project's app.
    celery_app.set_default()
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


def _rabbitmqctl(*args: str) -> bool:
    import shutil
    import subprocess

    command = shutil.which("rabbitmqctl")
    if command is None:
        return False
    done = subprocess.run([command, *args], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


@pytest.fixture(scope="session", autouse=True)
def private_broker():
    """This run's own RabbitMQ virtual host and Redis key prefix, so that runs sharing the brokers
    (CI next to a developer's run) never consume each other's messages, tasks or queues.

    The vhost is created with ``rabbitmqctl`` (the broker's own admin tool) and deleted after the
    run; without it (another host's broker) the configured vhost is used as it is.
    """
    import os
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    url = os.environ.get("CELERY_BROKER_URL", "")
    run = f"mmm-test-{uuid.uuid4().hex[:8]}"
    os.environ["MMM_TEST_REDIS_PREFIX"] = f"{run}:"
    if not url.startswith("amqp://") or not _rabbitmqctl("add_vhost", run):
        yield None
        return
    _rabbitmqctl("set_permissions", "-p", run, urlsplit(url).username or "guest", ".*", ".*", ".*")
    private = urlunsplit(urlsplit(url)._replace(path=f"/{run}"))
    saved = {
        name: getattr(settings, name)
        for name in ("CELERY_BROKER_URL", "EVENTS_BROKER_URL", "INGEST_BROKER_URL")
    }
    for name in saved:
        setattr(settings, name, private)
    os.environ["CELERY_BROKER_URL"] = private
    celery_app.conf.broker_url = private
    _reset_producers(celery_app)
    try:
        yield private
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        os.environ["CELERY_BROKER_URL"] = url
        celery_app.conf.broker_url = url
        _reset_producers(celery_app)
        _rabbitmqctl("delete_vhost", run)
