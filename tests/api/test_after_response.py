"""Broker work of a request runs once its response is sent (``mmm_project.background.after_response``)."""

from __future__ import annotations

import logging

import pytest
from django.core.signals import request_finished, request_started
from django.db import transaction

from mmm_project.background.after_response import after_commit_and_response, after_response


def test_in_a_request_the_work_waits_for_the_response_then_runs_in_order():
    ran = []
    request_started.send(sender=None)
    after_response(lambda: ran.append(1))
    after_response(lambda: ran.append(2))
    assert ran == []  # the response is not sent yet
    request_finished.send(sender=None)
    assert ran == [1, 2]
    after_response(lambda: ran.append(3))  # no request any more: at once
    assert ran == [1, 2, 3]


def test_outside_a_request_the_work_runs_at_once():
    ran = []
    after_response(lambda: ran.append(1))
    assert ran == [1]


def test_a_failure_is_logged_and_the_rest_still_runs(caplog):
    ran = []
    request_started.send(sender=None)
    after_response(lambda: 1 / 0)
    after_response(lambda: ran.append("after"))
    with caplog.at_level(logging.WARNING):
        request_finished.send(sender=None)
    assert ran == ["after"]
    assert [r.error for r in caplog.records if r.getMessage() == "work after the response failed"] == [
        "ZeroDivisionError"
    ]


@pytest.mark.django_db(transaction=True)
def test_after_commit_and_response_never_runs_for_a_rollback():
    ran = []
    request_started.send(sender=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        after_commit_and_response(lambda: ran.append("rolled back"))
        raise RuntimeError
    with transaction.atomic():
        after_commit_and_response(lambda: ran.append("committed"))
    assert ran == []
    request_finished.send(sender=None)
    assert ran == ["committed"]


@pytest.mark.django_db(transaction=True)  # real commits: on-commit work runs when they happen
def test_a_decide_publishes_its_event_once_the_client_has_the_response(client_for, monkeypatch, settings):
    from mmm_project import events

    settings.EVENTS_BROKER_URL = "memory://"
    published = []
    monkeypatch.setattr(events, "_send", lambda topic, event: published.append(topic))
    body = {
        "tenant_id": "tenant-a",
        "signal": {"source": "github", "event_type": "ci.check_run.failed", "severity": "high"},
    }
    with pytest.MonkeyPatch.context() as inside:
        seen_in_view = []
        from decisions import views

        create = views.decision_create
        inside.setattr(
            views,
            "decision_create",
            lambda **kw: (create(**kw), seen_in_view.append(list(published)))[0],
        )
        response = client_for(actor_id="dev-1").post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200
    assert seen_in_view == [[]]  # nothing published while the request was answered
    assert published == ["mmm.decisions"]  # published once the response was sent
