"""A Celery task round-trips through a real worker over RabbitMQ (celery.contrib.testing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
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
    assert report == {"decisions": 1, "outcomes": 0, "signals": 0, "rejected_signals": 0, "more": False}
    assert result.status == "SUCCESS"
    assert list(Decision.objects.values_list("id", flat=True)) == [fresh.id]
    assert not Decision.objects.filter(pk=expired.pk).exists()
