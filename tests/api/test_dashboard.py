"""The Grafana dashboard (deploy/grafana/mmm-engine.json) charts every FR-15 metric the engine
exports, and only metrics it exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from mmm_project import metrics

pytestmark = pytest.mark.django_db

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "mmm-engine.json"
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum")


def _queries(panels: list[dict]) -> list[str]:
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_the_dashboard_charts_every_fr15_metric_and_only_exported_ones(settings):
    # given the dashboard and what a scrape exports (services mode: queue gauges included)
    dashboard = json.loads(DASHBOARD.read_text())
    settings.SERVICES_MODE = True
    families = text_string_to_metric_families(APIClient().get("/v1/mmm/metrics").content.decode())
    exported = {family.name + suffix for family in families for suffix in SUFFIXES}
    # when its queries are read
    used = {
        name
        for expr in _queries(dashboard["panels"])
        for name in re.findall(r"\b((?:mmm|process)_[a-z_]+)", expr)
    }
    # then each is exported, and each metric of mmm_project.metrics is charted
    assert used <= exported, used - exported
    counted = {
        collector._name  # the family name prometheus_client registered
        for collector in vars(metrics).values()
        if hasattr(collector, "_name") and str(getattr(collector, "_name", "")).startswith("mmm_")
    }
    charted = {name.removesuffix("_total").removesuffix("_bucket") for name in used}
    assert counted and counted <= charted, counted - charted
    assert dashboard["uid"] == "mmm-engine"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
