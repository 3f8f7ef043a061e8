"""Delivery of actions to surfaces (FR-8, spec 12.4) against a real local HTTP server playing Alerting."""

from __future__ import annotations

import pytest

from decisions.delivery.services import deliveries_sweep, delivery_send
from decisions.models import Delivery
from mmm_project.clients import PeerUnavailable
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit
from tests.peers import FakeAlerting

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerting(httpserver, settings):
    fake = FakeAlerting()
    settings.ALERTING_URL = fake.install(httpserver)
    return fake


@pytest.fixture
def decision(client_for):
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook(
        {
            "name": "incident",
            "triggers": [{"event_type": "incident.*"}],
            "actions": [{**MIRROR, "surfaces": ["ide", "alert"]}, {**MENTOR, "surfaces": ["alert"]}],
        }
    )
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {
            "signal_id": "inc-1",
            "source": "detection",
            "event_type": "incident.firing",
            "severity": "critical",
        },
    }
    return after_commit(client_for().post, "/v1/mmm/decide", body, format="json").json()["decision"]


def test_alert_actions_are_pushed_the_rest_recorded(alerting, decision):
    deliveries = {(d.action.type, d.surface): d.status for d in Delivery.objects.select_related("action")}
    assert deliveries == {
        ("mirror", "ide"): "recorded",
        ("mirror", "alert"): "pending",
        ("mentor", "alert"): "pending",
    }
    for delivery in Delivery.objects.filter(status="pending"):
        assert delivery_send(delivery_id=str(delivery.id)) == "sent"
    assert {n["action_type"] for n in alerting.notifications.values()} == {"mirror", "mentor"}
    for notification in alerting.notifications.values():
        assert notification["severity"] == "critical"
        assert notification["decision_id"] == decision["decision_id"]
        assert "actor" not in " ".join(notification)  # no actor ids pushed to a channel service
    assert Delivery.objects.filter(status="sent").count() == 2


def test_without_an_alerting_url_everything_is_recorded(decision):
    assert set(Delivery.objects.values_list("status", flat=True)) == {"recorded"}


def test_transient_failure_is_retried_refusal_is_final(alerting, decision):
    first, second = Delivery.objects.filter(status="pending")
    alerting.script = [503, 400]
    with pytest.raises(PeerUnavailable):
        delivery_send(delivery_id=str(first.id))
    first.refresh_from_db()
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "alerting answered HTTP 503")
    assert delivery_send(delivery_id=str(second.id)) == "failed"
    assert delivery_send(delivery_id=str(first.id)) == "sent"
    assert delivery_send(delivery_id=str(first.id)) == "skipped"


def test_sweep_sends_what_was_left_pending(alerting, decision):
    from datetime import timedelta

    from django.utils import timezone

    # a minute on, the decision's deliveries have not been sent by their task: the sweep sends them
    assert deliveries_sweep(now=timezone.now() + timedelta(minutes=2)) == 2  # eager: sent in the sweep
    assert Delivery.objects.filter(status="sent").count() == 2


def test_ide_and_ci_are_pushed_to_edge_agent_and_ci_when_configured(httpserver, settings, client_for):
    import json as _json

    from werkzeug import Response

    received = {}

    def handler(request):
        body = request.get_json()
        received[(request.path, body["surface"])] = body
        return Response(_json.dumps({"ok": True}), status=202, content_type="application/json")

    httpserver.expect_request("/v1/edge/mmm/nudges", method="POST").respond_with_handler(handler)
    httpserver.expect_request("/v1/ci/mmm/annotations", method="POST").respond_with_handler(handler)
    settings.EDGE_AGENT_URL = settings.CI_DELIVERY_URL = httpserver.url_for("/").rstrip("/")
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    body = {
        "tenant_id": "tenant-a",
        "context": {"branch": "main"},
        "signal": {"signal_id": "p1", "source": "github", "event_type": "ci.check_run.failed"},
    }
    after_commit(client_for().post, "/v1/mmm/decide", body, format="json")
    for delivery in Delivery.objects.filter(status="pending"):
        assert delivery_send(delivery_id=str(delivery.id)) == "sent"
    assert set(received) == {("/v1/edge/mmm/nudges", "ide"), ("/v1/ci/mmm/annotations", "ci")}
    assert set(received[("/v1/edge/mmm/nudges", "ide")]["surface_payload"]) == {"pill", "card"}
    assert "pr_comment" in received[("/v1/ci/mmm/annotations", "ci")]["surface_payload"]
