"""The Django admin in a real browser: headless Chromium (the system's ``chromium``, driven by
Playwright) logs in to a running service and reads decisions. A browser sends what the Django test
client does not (``Origin``, the referrer policy's effects), which is where the login used to fail
with 403 "Origin checking failed - null"."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from decisions.models import Decision
from receipts.models import Receipt
from tests.factories import DecisionFactory, TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.integration.helpers import service_urls
from tests.integration.processes import free_port, gunicorn, service_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.skipif(service_urls() is None, reason="CELERY_BROKER_URL etc. not set (.ci/run sets them)"),
    pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium (.ci/run installs it)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def decisions(client_for):
    """One decision made through the API (an action, a receipt) and an older one whose actions
    were all suppressed."""
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0)
    publish_playbook(mirror_playbook(name="ci-failing"))
    body = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {"signal_id": "browser-1", "source": "github", "event_type": "ci.check_run.failed"},
    }
    response = client_for(actor_id="dev-browser").post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200, response.content
    older = DecisionFactory(
        actor_id="dev-quiet",
        created_at=timezone.now() - timedelta(hours=2),
        context={"context": {"repo_id": "org/other", "branch": "release"}, "recent_signals": []},
        suppressed_actions=[
            {"playbook_id": "pb-9", "type": "mentor", "surfaces": ["ide"], "reason": "fatigue.cooldown"}
        ],
    )
    return Decision.objects.get(signal__signal_id="browser-1"), older


def test_an_admin_logs_in_with_chromium_and_reads_decisions(tmp_path, decisions):
    from playwright.sync_api import sync_playwright

    newest, older = decisions
    # The service hashes with Django's default (PBKDF2); this suite's settings use a fast MD5 one.
    admin_user = get_user_model().objects.create_superuser("ops-admin", password=None)
    admin_user.password = PBKDF2PasswordHasher().encode("correct-horse-battery", "saltsaltsalt")
    admin_user.save(update_fields=["password"])
    receipt = Receipt.objects.get(kind="decision", decision_id=newest.pk)  # no ORM under Playwright's loop
    port = free_port()
    web = gunicorn(service_env(tmp_path, GUNICORN_WORKERS="1"), port)
    base = f"http://127.0.0.1:{port}"
    try:
        web.wait_for(lambda line: "Booting worker" in line)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page()
            # when the admin logs in through the login form
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", "ops-admin")
            page.fill("#id_password", "correct-horse-battery")
            with page.expect_navigation():
                page.click("input[type=submit]")
            # then the login is accepted (no CSRF 403) and the site index shows
            assert page.url == f"{base}/admin/", page.inner_text("body")[:1500] + web.output()[-3000:]
            assert "Deliveries" in page.content() and "LLM usage" in page.content()

            # the decisions list: newest first, with actor, action and suppressed counts, playbook
            page.goto(f"{base}/admin/decisions/decision/")
            headers = [h.strip().lower() for h in page.locator("#result_list thead th").all_inner_texts()]
            for column in ("actor id", "playbook", "actions", "suppressed"):
                assert column in headers, headers
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 2
            first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
            assert "dev-browser" in first and "ci-failing v1" in first
            assert "dev-quiet" in second

            # search by actor, then by signal id
            page.goto(f"{base}/admin/decisions/decision/?q=dev-quiet")
            assert page.locator("#result_list tbody tr").count() == 1
            page.goto(f"{base}/admin/decisions/decision/?q=browser-1")
            assert page.locator("#result_list tbody tr").count() == 1

            # one decision: suppressed actions and context as tables, and no Save button
            page.goto(f"{base}/admin/decisions/decision/{older.pk}/change/")
            suppressed = page.locator(".field-suppressed_table table").first
            assert "fatigue.cooldown" in suppressed.inner_text()
            assert "org/other" in page.locator(".field-context_table table").first.inner_text()
            assert page.locator("input[name=_save]").count() == 0

            # a receipt links to its decision
            page.goto(f"{base}/admin/receipts/receipt/{receipt.pk}/change/")
            with page.expect_navigation():
                page.click(f"a[href='/admin/decisions/decision/{newest.pk}/change/']")
            assert str(newest.pk) in page.content()
            browser.close()
    finally:
        web.stop()
