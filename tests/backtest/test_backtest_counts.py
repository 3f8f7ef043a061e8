"""A backtest counts "only after N in M" triggers (issue 15) as the live decisions did: from the
repository's signals stored before each replayed one, whoever their actor."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from decisions.models import Action, Decision
from tests.engine.helpers import MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook

pytestmark = pytest.mark.django_db

# (actor, repo, event type, minutes before now): failures of two repositories, one success, old ones
SIGNALS = [
    ("dev-1", "org/a", "ci.check_run.failed", 90),
    ("dev-2", "org/a", "ci.check_run.failed", 80),
    ("dev-1", "org/a", "ci.check_run.failed", 40),
    ("dev-2", "org/b", "ci.check_run.failed", 25),
    ("dev-1", "org/a", "ci.check_run.succeeded", 30),
    ("dev-2", "org/a", "ci.check_run.failed", 25),
    ("dev-1", "org/a", "ci.check_run.failed", 20),  # 3rd of org/a in 30 minutes: fires
    ("dev-2", "org/b", "ci.check_run.failed", 15),
    ("dev-2", "org/a", "ci.check_run.failed", 10),  # 4th: fires for dev-2
    ("dev-1", "org/a", "ci.check_run.failed", 5),  # 5th: dev-1's cool-down on org/a
    ("dev-2", "org/b", "ci.check_run.failed", 0),  # 3rd of org/b: fires
]


def test_a_backtest_counts_like_the_live_decisions(client_for):
    # given a count playbook with a cool-down, a draft counting 2 in 10, and live decisions
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=100,
    )
    trigger = {"event_type": "ci.check_run.failed", "count": 3, "window_minutes": 30}
    limits = {"cooldown_minutes": 60}
    published = publish_playbook(
        {"name": "third", "triggers": [trigger], "actions": [MIRROR], "limits": limits}
    )
    admin = client_for(actor_id="lead", roles=["tenant_admin"])
    draft = {
        "name": "second-in-10",
        "triggers": [{"event_type": "ci.*", "count": 2, "window_minutes": 10}],
        "actions": [MIRROR],
    }
    draft = admin.post("/v1/mmm/playbooks", draft, format="json").json()
    now = timezone.now()
    for n, (actor, repo, event_type, minutes) in enumerate(SIGNALS):
        body = {
            "tenant_id": "tenant-a",
            "actor_id": actor,
            "context": {"branch": "main", "repo_id": repo},
            "signal": {
                "signal_id": f"s{n}",
                "source": "github",
                "event_type": event_type,
                "severity": "high",
                "ts": (now - timedelta(minutes=minutes)).isoformat(),
            },
        }
        assert client_for(actor_id=actor).post("/v1/mmm/decide", body, format="json").status_code == 200
    fired = [
        d.signal.signal_id for d in Decision.objects.filter(actions__isnull=False).order_by("created_at")
    ]
    assert fired == ["s6", "s8", "s10"]
    live_suppressed = Counter(
        r["reason"].split(":")[0] for d in Decision.objects.all() for r in d.suppressed_actions
    )
    assert live_suppressed == {"fatigue.cooldown": 1}
    # when the published playbook is backtested over the same signals
    started = admin.post(f"/v1/mmm/playbooks/{published.id}/backtest", {}, format="json")
    assert started.status_code == 202, started.json()
    result = admin.get(f"/v1/mmm/backtests/{started.json()['backtest_id']}").json()["result"]
    # then it delivers and suppresses exactly what the live decisions did
    assert result["playbook"]["delivered"] == Action.objects.count() == 3
    assert result["playbook"]["suppressed_by_reason"] == dict(live_suppressed)
    # and the draft, counting 2 of any ci.* in 10 minutes, would fire where the window holds two
    started = admin.post(f"/v1/mmm/playbooks/{draft['playbook_id']}/backtest", {}, format="json")
    result = admin.get(f"/v1/mmm/backtests/{started.json()['backtest_id']}").json()["result"]
    # (the window's start included): org/a s1 (80, 90), s4 (the success at 30, 40), s5, s6, s8, s9;
    # org/b s7 (15, 25); not s0, s2, s3 (nothing 10 minutes before) nor s10 (0, 15)
    assert result["playbook"]["delivered"] == 7
    assert result["overlap"][0]["signals_both_matched"] == 3  # s6, s8 and s9 matched both
