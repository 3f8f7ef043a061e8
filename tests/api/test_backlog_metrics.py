"""Backlog gauges in the scrape (NFR-6, FR-15): outbox rows by status, oldest waiting, undecided signals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from decisions.models import Signal
from receipts.models import Receipt
from tests.factories import ReceiptFactory, SignalFactory

pytestmark = pytest.mark.django_db


def _scrape() -> dict[tuple[str, tuple], float]:
    text = APIClient().get("/v1/mmm/metrics").content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith(
            ("mmm_outbox", "mmm_signals_undecided", "mmm_signals_oldest", "mmm_receipt_log")
        )
    }


def test_the_scrape_shows_what_waits_to_be_sent_or_decided():
    # given two pending receipts (one an hour old), one failed, and an undecided signal
    long_ago = timezone.now() - timedelta(hours=1)
    old = ReceiptFactory(status="pending")
    Receipt.objects.filter(pk=old.pk).update(created_at=long_ago)
    ReceiptFactory(status="pending")
    ReceiptFactory(status="failed")
    SignalFactory(status="received")
    Signal.objects.update(received_at=long_ago)
    SignalFactory(status="decided")
    # when Prometheus scrapes
    gauges = _scrape()
    # then
    assert gauges[("mmm_outbox_rows", (("outbox", "receipts"), ("status", "pending")))] == 2
    assert gauges[("mmm_outbox_rows", (("outbox", "receipts"), ("status", "failed")))] == 1
    assert gauges[("mmm_outbox_rows", (("outbox", "deliveries"), ("status", "pending")))] == 0
    assert gauges[("mmm_outbox_oldest_pending_seconds", (("outbox", "receipts"),))] >= 3600
    assert gauges[("mmm_signals_undecided", ())] == 1
    assert gauges[("mmm_signals_oldest_undecided_seconds", ())] >= 3600
    # and the receipts wait for the tamper-evident log too: three, the oldest an hour old
    assert gauges[("mmm_receipt_log_waiting", ())] == 3
    assert gauges[("mmm_receipt_log_lag_seconds", ())] >= 3600
    assert gauges[("mmm_outbox_rows", (("outbox", "tree_heads"), ("status", "pending")))] == 0


def test_every_metric_the_alerting_rules_use_is_exported(client_for, settings):
    import re
    from pathlib import Path

    import yaml

    rules = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy/prometheus/alerts.yml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\b(mmm_[a-z_]+)", rule["expr"])
    }
    settings.SERVICES_MODE = True  # queue gauges are exported in services mode only
    exported = {
        sample_name
        for family in text_string_to_metric_families(APIClient().get("/v1/mmm/metrics").content.decode())
        for sample_name in [family.name, *(family.name + s for s in ("_total", "_bucket", "_count", "_sum"))]
    }
    assert used and used <= exported, used - exported
