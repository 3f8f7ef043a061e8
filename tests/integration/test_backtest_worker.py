"""A backtest runs as the ``backtest.run`` Celery task on a real worker over RabbitMQ (issue 15),
its state and report shared through the cache (Redis)."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from decisions.backtest import services as backtest_services
from decisions.models import Action, Decision
from mmm_project.auth.principal import Principal
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.integration.helpers import service_urls

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(service_urls() is None, reason="CELERY_BROKER_URL etc. not set (.ci/run sets them)"),
    pytest.mark.django_db(transaction=True),
]


def test_backtest_runs_on_a_worker_with_progress_and_its_report_is_read_back(
    worker_app, client_for, monkeypatch
):
    # given 3 decided signals and a published playbook
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    playbook = publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    actor = client_for(actor_id="actor-1")
    for n in range(3):
        body = {
            "tenant_id": "tenant-a",
            "context": {"branch": "main", "repo_id": f"org/r{n}"},
            "signal": {"signal_id": f"w{n}", "source": "github", "event_type": "ci.check_run.failed"},
        }
        assert actor.post("/v1/mmm/decide", body, format="json").status_code == 200
    # and a backtest queued (the request's own enqueue is held back: the worker below takes it)
    monkeypatch.setattr(backtest_services, "enqueue", lambda *args, **kwargs: True)
    admin = Principal(actor_id="lead", tenant_id="tenant-a", roles=frozenset({"tenant_admin"}))
    state = backtest_services.backtest_start(principal=admin, playbook=playbook)
    assert state["status"] == "queued"
    assert (
        worker_app.amqp.router.route({}, "backtest.run")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    )

    # when the task goes through the broker to a real worker
    with start_worker(
        worker_app,
        pool="solo",
        queues=[settings.CELERY_TASK_DEFAULT_QUEUE],
        perform_ping_check=True,
        shutdown_timeout=30,
    ):
        result = worker_app.tasks["backtest.run"].apply_async(args=[state["backtest_id"]])
        assert result.get(timeout=60) == "succeeded"

    # then the admin reads the finished state and report back through the API
    body = client_for(actor_id="lead", roles=["tenant_admin"]).get(
        f"/v1/mmm/backtests/{state['backtest_id']}"
    )
    assert body.status_code == 200
    done = body.json()
    assert (done["status"], done["progress"]) == ("succeeded", {"done": 3, "total": 3})
    assert done["result"]["playbook"]["delivered"] == Action.objects.count() == 3
    assert Decision.objects.count() == 3  # nothing written by the backtest
