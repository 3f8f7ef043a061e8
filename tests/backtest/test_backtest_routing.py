"""A backtest applies a playbook's own quiet hours and quotas as a live decision does (FR-3, FR-7,
issue 15: faithful): the same delivered and suppressed counts, reason by reason."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from decisions.backtest.services import playbook_backtest
from decisions.models import Action, Decision
from decisions.services.decide import decision_create
from mmm_project.auth.principal import Principal
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

NIGHT = {"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}}


def _decide(actor: str, signal_id: str, now: datetime, repo: str) -> None:
    principal = Principal(actor_id=actor, tenant_id="tenant-a", scopes=frozenset({"mmm.decide"}))
    request = {
        "tenant_id": "tenant-a",
        "context": {"repo_id": repo, "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": now,
        },
    }
    decision_create(principal=principal, data=request, now=now)


def test_backtest_applies_the_playbooks_quiet_hours_and_quotas_as_live_decisions_did():
    # given a playbook with its own quiet hours and daily quota, one with an hourly quota, one plain
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
        max_actions_per_repo_per_day=100,
    )
    routed = publish_playbook(
        {
            "name": "routed",
            "triggers": [{"event_type": "ci.*"}],
            "actions": [MIRROR],
            "routing": NIGHT,
            "limits": {"max_actions_per_day": 2},
        }
    )
    publish_playbook(
        {
            "name": "hourly",
            "triggers": [{"event_type": "ci.*"}],
            "actions": [MENTOR],
            "limits": {"max_actions_per_hour": 1},
        }
    )
    publish_playbook({"name": "plain", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    # and live decisions for two actors over two days, by day and at night (Berlin)
    base = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    times = [base + timedelta(minutes=20 * n) for n in range(5)]  # 09:00-10:20 Berlin
    times += [base + timedelta(hours=13, minutes=n) for n in range(2)]  # 22:00 Berlin: quiet
    times += [base + timedelta(days=1, minutes=n) for n in range(3)]  # the next day
    n = 0
    for actor in ("actor-1", "dev-2"):
        for at in times:
            n += 1
            _decide(actor, f"s{n}", at, repo=f"org/r{n % 3}")
    decisions = list(Decision.objects.for_tenant("tenant-a"))
    live = Counter(r["reason"].split(":")[0] for d in decisions for r in d.suppressed_actions)
    assert {
        "fatigue.playbook_quiet_hours",
        "fatigue.playbook_quota_day",
        "fatigue.playbook_quota_hour",
    } <= set(live)
    # when the routed playbook is backtested over the window holding these signals
    now = timezone.now()
    report = playbook_backtest(
        tenant_id="tenant-a",
        playbook=routed,
        version=routed.published_version,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
    )
    # then the simulation delivers and suppresses exactly what the live decisions did
    assert report["signals"]["replayed"] == len(decisions)
    assert report["all_playbooks"]["delivered"] == Action.objects.count()
    assert report["all_playbooks"]["suppressed_by_reason"] == dict(sorted(live.items()))
    own = Action.objects.filter(playbook_version__playbook=routed).count()
    assert report["playbook"]["delivered"] == own
