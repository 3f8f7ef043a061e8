"""A backtest is faithful (issue 15): the starter pack replayed over the demo's real input gives the
delivered and suppressed counts of the live decisions ``manage.py demo`` made."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from decisions.models import Action, Decision
from playbooks.models import Playbook
from receipts.models import Receipt

pytestmark = pytest.mark.django_db(transaction=True)  # the demo's signals are decided on commit


def test_backtest_of_the_starter_pack_over_the_demo_input_matches_the_live_decisions(client_for):
    # given the demo's live decisions on the real recorded input (starter pack published)
    call_command("demo", stdout=StringIO())
    decisions = list(Decision.objects.for_tenant("demo"))
    live_suppressed = Counter(r["reason"].split(":")[0] for d in decisions for r in d.suppressed_actions)
    live_actions = Action.objects.for_tenant("demo")
    assert live_actions.count() > 0 and sum(live_suppressed.values()) > 0  # both sides are exercised
    written = (Decision.objects.count(), Action.objects.count(), Receipt.objects.count())
    admin = client_for(tenant_id="demo", actor_id="demo-admin", roles=["tenant_admin"])
    playbooks = list(Playbook.objects.for_tenant("demo"))
    assert len(playbooks) == 7
    for playbook in playbooks:
        # when each starter playbook is backtested over the window holding the demo
        started = admin.post(f"/v1/mmm/playbooks/{playbook.id}/backtest", {}, format="json")
        assert started.status_code == 202, started.json()
        state = admin.get(f"/v1/mmm/backtests/{started.json()['backtest_id']}").json()
        assert state["status"] == "succeeded", state
        result = state["result"]
        # then every playbook together delivers and suppresses exactly what the live decisions did
        assert result["signals"]["replayed"] == len(decisions)
        assert result["all_playbooks"]["delivered"] == live_actions.count()
        assert result["all_playbooks"]["suppressed_by_reason"] == dict(sorted(live_suppressed.items()))
        # and the tested playbook's own share is its live share
        own = live_actions.filter(playbook_version__playbook=playbook)
        assert result["playbook"]["delivered"] == own.count(), playbook.name
        own_suppressed = Counter(
            r["reason"].split(":")[0]
            for d in decisions
            for r in d.suppressed_actions
            if r.get("playbook_id") == str(playbook.id)
        )
        assert result["playbook"]["suppressed_by_reason"] == dict(sorted(own_suppressed.items()))
    # and nothing was written
    assert (Decision.objects.count(), Action.objects.count(), Receipt.objects.count()) == written
