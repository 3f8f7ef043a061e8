"""Residency across process boundaries (NFR-3): task messages carry their scope; webhooks find
their sender in any region and store in its tenant's; the admin browses one region at a time."""

from __future__ import annotations

import contextvars
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User

from decisions.intake.webhooks import webhook_endpoint_create
from decisions.models import Signal
from mmm_project.residency import celery as residency_celery
from mmm_project.residency import context, region_context, tenant_context
from tests.factories import TenantPolicyFactory
from tests.residency.conftest import BOTH, DEFAULT_TENANT, EU_TENANT, needs_two_regions

pytestmark = needs_two_regions


def _as_worker(headers: dict) -> list[str | None]:
    """Run a task's prerun/postrun hooks on a request carrying ``headers``, in a fresh context
    like a worker process's; return the alias seen before, during and after the task."""

    def run() -> list[str | None]:
        seen = [context.current_scope()]
        task = SimpleNamespace(request=SimpleNamespace(is_eager=False, **headers))
        residency_celery._enter_scope(task_id="t-1", task=task)
        seen.append(getattr(context.current_scope(), "alias", None))
        residency_celery._leave_scope(task_id="t-1")
        seen.append(context.current_scope())
        return seen

    return contextvars.Context().run(run)


def test_a_task_queued_for_a_tenant_runs_in_its_region():
    headers: dict = {}
    with tenant_context(EU_TENANT):
        residency_celery._carry_scope(headers=headers)
    assert headers == {"mmm_region": "eu", "mmm_tenant": EU_TENANT}
    assert _as_worker(headers) == [None, "eu", None]


def test_a_task_queued_by_a_region_sweep_runs_in_that_region():
    headers: dict = {}
    with region_context("eu"):
        residency_celery._carry_scope(headers=headers)
    assert headers == {"mmm_region": "eu"}
    assert _as_worker(headers) == [None, "eu", None]


def test_a_task_queued_with_no_scope_carries_none_and_runs_with_none():
    headers: dict = {}
    residency_celery._carry_scope(headers=headers)
    assert headers == {}
    assert _as_worker(headers) == [None, None, None]


@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_an_alertmanager_webhook_for_an_eu_tenant_is_stored_in_eu(api_client, rows):
    # given an Alertmanager endpoint of the eu tenant (stored in eu)
    with tenant_context(EU_TENANT):
        TenantPolicyFactory(tenant_id=EU_TENANT)
        _, token = webhook_endpoint_create(
            tenant_id=EU_TENANT, provider="alertmanager", name="am", routes=[], actor_id="admin"
        )
    # when Alertmanager posts with its token (no tenant in the request)
    body = {
        "version": "4",
        "status": "firing",
        "receiver": "mmm",
        "groupKey": "g",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighErrorRate", "severity": "critical"},
                "annotations": {},
                "startsAt": "2026-03-04T12:00:00Z",
                "fingerprint": "f1",
            }
        ],
    }
    response = api_client.post(
        "/v1/mmm/webhooks/alertmanager", body, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 202, response.content
    assert len(response.json()["accepted"]) == 1
    # then the signal is in eu only
    assert rows("eu", Signal._meta.db_table, EU_TENANT) == 1
    assert rows("default", Signal._meta.db_table, EU_TENANT) == 0
    # and a token no region knows is refused
    wrong = api_client.post(
        "/v1/mmm/webhooks/alertmanager", body, format="json", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert wrong.status_code == 401


@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_the_admin_shows_the_default_region_until_switched(client):
    with tenant_context(EU_TENANT):
        TenantPolicyFactory(tenant_id=EU_TENANT)
    with tenant_context(DEFAULT_TENANT):
        TenantPolicyFactory(tenant_id=DEFAULT_TENANT)
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = "/admin/preferences/tenantpolicy/"
    default_page = client.get(page)
    assert default_page.status_code == 200
    assert DEFAULT_TENANT in default_page.content.decode() and EU_TENANT not in default_page.content.decode()
    assert client.get("/admin/region/eu/").status_code == 302
    eu_page = client.get(page).content.decode()
    assert EU_TENANT in eu_page and DEFAULT_TENANT not in eu_page
    assert client.get("/admin/region/apac/").status_code == 404
    client.logout()
    assert client.get("/admin/region/eu/").status_code == 302  # to the login page
    assert client.get("/admin/region/eu/")["Location"].startswith("/admin/login/")
