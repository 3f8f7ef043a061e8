"""Retention purge (NFR-3): per-tenant windows, legal hold, outcomes outliving decisions, batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from decisions.models import Action, ActionRevision, Decision, Delivery, Outcome, RejectedSignal, Signal
from decisions.retention import retention_purge_batch
from tasks.retention import retention_purge_task
from tests.factories import (
    ActionFactory,
    ActionRevisionFactory,
    DecisionFactory,
    DeliveryFactory,
    OutcomeFactory,
    RejectedSignalFactory,
    SignalFactory,
    TenantPolicyFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float):
    return NOW - timedelta(days=days)


def test_default_windows_90_days_for_decisions_365_for_outcomes():
    # given decisions either side of 90 days, and an outcome of the old decision
    old = ActionFactory(decision__created_at=days_ago(91)).decision
    recent = DecisionFactory(created_at=days_ago(89))
    outcome = OutcomeFactory(action=old.actions.get(), created_at=days_ago(91))
    # when
    report = retention_purge_batch(now=NOW, batch_size=100)
    # then the old decision and its actions are gone; its outcome stays, unlinked
    assert report.decisions == 1
    assert list(Decision.objects.values_list("id", flat=True)) == [recent.id]
    assert not Action.objects.filter(decision_id=old.id).exists()
    outcome.refresh_from_db()
    assert outcome.decision_id is None and outcome.action_id is None
    assert outcome.action_type == "mirror"
    # and outcomes go after 365 days
    Outcome.objects.filter(pk=outcome.pk).update(created_at=days_ago(366))
    assert retention_purge_batch(now=NOW, batch_size=100).outcomes == 1
    assert not Outcome.objects.exists()


def test_tenant_policy_retention_overrides_default():
    TenantPolicyFactory(tenant_id="short", decision_retention_days=7)
    TenantPolicyFactory(tenant_id="long", decision_retention_days=400)
    short = DecisionFactory(tenant_id="short", created_at=days_ago(8))
    long_kept = DecisionFactory(tenant_id="long", created_at=days_ago(300))
    default_gone = DecisionFactory(tenant_id="no-policy", created_at=days_ago(100))
    retention_purge_batch(now=NOW, batch_size=100)
    remaining = set(Decision.objects.values_list("id", flat=True))
    assert short.id not in remaining
    assert default_gone.id not in remaining
    assert long_kept.id in remaining


def test_legal_hold_is_never_purged():
    held = DecisionFactory(created_at=days_ago(1000), legal_hold=True)
    held_signal = SignalFactory(legal_hold=True)
    Signal.objects.filter(pk=held_signal.pk).update(received_at=days_ago(1000))
    held_outcome = OutcomeFactory(legal_hold=True, created_at=days_ago(1000))
    report = retention_purge_batch(now=NOW, batch_size=100)
    assert report.decisions == 0 and report.signals == 0 and report.outcomes == 0
    assert Decision.objects.filter(pk=held.pk).exists()
    assert Outcome.objects.filter(pk=held_outcome.pk).exists()


def test_signals_follow_decision_retention():
    old = SignalFactory()
    fresh = SignalFactory()
    Signal.objects.filter(pk=old.pk).update(received_at=days_ago(91))
    assert retention_purge_batch(now=NOW, batch_size=100).signals == 1
    assert list(Signal.objects.values_list("id", flat=True)) == [fresh.id]


def test_batches_are_bounded_and_report_more():
    for _ in range(5):
        DecisionFactory(created_at=days_ago(120))
    first = retention_purge_batch(now=NOW, batch_size=2)
    assert (first.decisions, first.more) == (2, True)
    assert Decision.objects.count() == 3


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        retention_purge_batch(now=NOW, batch_size=0)


def test_task_reenqueues_until_backlog_is_empty():
    # given more expired rows than one batch (tasks run eagerly here)
    for _ in range(5):
        DecisionFactory(created_at=days_ago(120))
    # when the task runs with a batch of 2
    result = retention_purge_task.delay(batch_size=2).get()
    # then re-enqueued runs cleared the backlog; the first run reports its own batch
    assert result == {"decisions": 2, "outcomes": 0, "signals": 0, "rejected_signals": 0, "more": True}
    assert Decision.objects.count() == 0


def test_each_purge_writes_a_signed_deletion_receipt_per_tenant():
    from receipts.models import Receipt
    from receipts.services import receipt_document
    from receipts.signing import verify_document

    DecisionFactory(tenant_id="t1", created_at=days_ago(100))
    DecisionFactory(tenant_id="t1", created_at=days_ago(100))
    OutcomeFactory(
        tenant_id="t2",
        action__tenant_id="t2",
        action__decision__tenant_id="t2",
        action__decision__created_at=days_ago(10),
        created_at=days_ago(400),
    )
    retention_purge_batch(now=NOW, batch_size=100)
    receipts = {r.tenant_id: receipt_document(r) for r in Receipt.objects.filter(kind="deletion")}
    assert receipts["t1"]["inputs"] == {"reason": "retention", "counts": {"decisions": 2}}
    assert receipts["t2"]["inputs"] == {"reason": "retention", "counts": {"outcomes": 1}}
    assert all(verify_document(doc).valid for doc in receipts.values())
    # nothing deleted, nothing receipted
    retention_purge_batch(now=NOW, batch_size=100)
    assert Receipt.objects.filter(kind="deletion").count() == 2


def test_deliveries_and_llm_revisions_go_with_their_decision():
    old_action = ActionFactory(decision__created_at=days_ago(91))
    kept_action = ActionFactory(decision__created_at=days_ago(10))
    for action in (old_action, kept_action):
        DeliveryFactory(action=action, tenant_id=action.tenant_id)
        ActionRevisionFactory(action=action, tenant_id=action.tenant_id)
    retention_purge_batch(now=NOW, batch_size=100)
    assert list(Delivery.objects.values_list("action_id", flat=True)) == [kept_action.id]
    assert list(ActionRevision.objects.values_list("action_id", flat=True)) == [kept_action.id]


def test_rejected_signal_records_go_after_their_own_window(settings):
    settings.REJECTED_SIGNAL_RETENTION_DAYS = 30
    old = RejectedSignalFactory(tenant_id="")  # rejected before a tenant was known
    fresh = RejectedSignalFactory()
    RejectedSignal.objects.filter(pk=old.pk).update(received_at=days_ago(31))
    RejectedSignal.objects.filter(pk=fresh.pk).update(received_at=days_ago(29))
    report = retention_purge_batch(now=NOW, batch_size=100)
    assert report.rejected_signals == 1
    assert list(RejectedSignal.objects.values_list("id", flat=True)) == [fresh.id]
    # no deletion receipt: the records hold no tenant content
    from receipts.models import Receipt

    assert not Receipt.objects.filter(kind="deletion").exists()


def test_a_full_batch_of_rejected_signal_records_reports_more():
    for _ in range(3):
        RejectedSignalFactory()
    RejectedSignal.objects.update(received_at=days_ago(60))
    first = retention_purge_batch(now=NOW, batch_size=2)
    assert (first.rejected_signals, first.more) == (2, True)
    second = retention_purge_batch(now=NOW, batch_size=2)
    assert (second.rejected_signals, second.more) == (1, False)


# --- per-tenant windows from Data Governance, dry run, schedule ---------------------------------------


@pytest.fixture
def governance(httpserver, settings):
    """A Data Governance server giving tenant "short" 10-day decisions and 20-day outcomes and
    logs; tenant "down" gets a 503."""
    import json

    from werkzeug import Response

    settings.DATA_GOVERNANCE_URL = httpserver.url_for("/").rstrip("/")
    config = {"quiet_hours": {"start": 22, "end": 6, "timezone": "UTC"}}
    short = {**config, "retention": {"decisions_days": 10, "outcomes_days": 20, "logs_days": 20}}
    httpserver.expect_request("/v1/data-governance/tenants/short/config").respond_with_json(short)
    httpserver.expect_request("/v1/data-governance/tenants/down/config").respond_with_handler(
        lambda request: Response(status=503)
    )
    httpserver.expect_request("/v1/data-governance/tenants/plain/config").respond_with_data(
        json.dumps(config), content_type="application/json"
    )
    return httpserver


def test_data_governance_windows_apply_per_tenant_and_legal_hold_wins(governance):
    # given 15-day-old rows in a tenant Data Governance keeps 10 days, one on legal hold,
    # and in tenants without a DG window (no retention given; DG down)
    short = DecisionFactory(tenant_id="short", created_at=days_ago(15))
    held = DecisionFactory(tenant_id="short", created_at=days_ago(15), legal_hold=True)
    outcome = OutcomeFactory(tenant_id="short", created_at=days_ago(25))
    rejected = RejectedSignalFactory(tenant_id="short")
    RejectedSignal.objects.filter(pk=rejected.pk).update(received_at=days_ago(25))
    plain = DecisionFactory(tenant_id="plain", created_at=days_ago(15))
    down = DecisionFactory(tenant_id="down", created_at=days_ago(15))
    # when the purge runs
    report = retention_purge_batch(now=NOW, batch_size=100)
    # then only the short tenant's expired rows went; the held one stays
    assert (report.decisions, report.outcomes, report.rejected_signals) == (1, 1, 1)
    assert (
        not Decision.objects.filter(pk=short.pk).exists()
        and not Outcome.objects.filter(pk=outcome.pk).exists()
    )
    assert Decision.objects.filter(pk__in=[held.pk, plain.pk, down.pk]).count() == 3


def test_a_policy_value_overrides_data_governance(governance):
    TenantPolicyFactory(tenant_id="short", decision_retention_days=30)
    kept = DecisionFactory(tenant_id="short", created_at=days_ago(15))
    assert retention_purge_batch(now=NOW, batch_size=100).decisions == 0
    assert Decision.objects.filter(pk=kept.pk).exists()


def test_dry_run_counts_per_table_and_writes_nothing(governance):
    import io

    from django.core.management import call_command

    from receipts.models import Receipt

    expired = DecisionFactory(tenant_id="short", created_at=days_ago(15))
    outcome = OutcomeFactory(tenant_id="short", created_at=days_ago(25))
    out = io.StringIO()
    call_command("purge_retention", "--tenant", "short", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "short: decisions 10 d, outcomes 20 d, logs 20 d (data_governance)" in text
    assert "would delete 1 decisions" in text and "would delete 1 outcomes" in text
    assert Decision.objects.filter(pk=expired.pk).exists() and Outcome.objects.filter(pk=outcome.pk).exists()
    assert not Receipt.objects.filter(kind="deletion").exists()
    # and without --dry-run they go, with their deletion receipt
    call_command("purge_retention", "--tenant", "short", stdout=io.StringIO())
    assert not Decision.objects.filter(pk=expired.pk).exists()
    assert Receipt.objects.filter(kind="deletion").count() == 1


def test_the_purge_runs_daily_at_a_fixed_time_with_bounded_follow_ups(settings):
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == "retention.purge"
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}
    assert settings.RETENTION_MAX_BATCHES_PER_RUN > 0
