"""Backtest tasks (queue ``default``): replay a playbook over stored signals (issue 15)."""

from __future__ import annotations

from celery import shared_task

from decisions.backtest.services import backtest_run


# A backtest of MAX_SIGNALS signals takes a few minutes: its own limits, over the default 60 s.
@shared_task(name="backtest.run", soft_time_limit=600, time_limit=660)
def backtest_run_task(backtest_id: str) -> str:
    """Run one queued backtest (``backtest_run``); the state in the cache makes it run once."""
    return backtest_run(backtest_id=backtest_id)
