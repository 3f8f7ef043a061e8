"""A Celery task round-trips through a real worker over RabbitMQ (celery.contrib.testing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from decisions.models import Decision
from tests.factories import DecisionFactory
from tests.integration.helpers import service_urls

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(service_urls() is None, reason="CELERY_BROKER_URL etc. not set (.ci/run sets them)"),
]


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
    return app


@pytest.mark.django_db(transaction=True)
def test_retention_purge_round_trips_through_worker_on_rabbitmq(worker_app):
    # given one expired and one fresh decision, committed so the worker thread sees them
    expired = DecisionFactory(created_at=timezone.now() - timedelta(days=120))
    fresh = DecisionFactory()
    purge = worker_app.tasks["retention.purge"]
    assert worker_app.amqp.router.route({}, "retention.purge")["queue"].name == "maintenance"

    # when the task is sent through the broker to a real worker consuming the routed queue
    with start_worker(
        worker_app,
        pool="solo",
        queues=[settings.CELERY_TASK_DEFAULT_QUEUE, "maintenance"],
        perform_ping_check=True,
        shutdown_timeout=30,
    ):
        result = purge.apply_async(kwargs={"batch_size": 100})
        report = result.get(timeout=30)

    # then the worker ran it against the database and its result came back
    assert report == {"decisions": 1, "outcomes": 0, "signals": 0, "more": False}
    assert result.status == "SUCCESS"
    assert list(Decision.objects.values_list("id", flat=True)) == [fresh.id]
    assert not Decision.objects.filter(pk=expired.pk).exists()
