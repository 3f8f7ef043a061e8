"""LLM tasks (queue ``llm``): enrich Mentor/Multiplier actions through the LLM Gateway (FR-5)."""

from __future__ import annotations

from celery import shared_task

from decisions.delivery.enrichment import action_enrich, action_enrich_give_up
from tasks.retrying import RETRY_COUNTDOWNS, call_peer_with_retries


@shared_task(name="llm.enrich", bind=True, acks_late=True, max_retries=len(RETRY_COUNTDOWNS))
def action_enrich_task(self, action_id: str) -> str:
    """Enrich one action (``action_enrich``); gateway outages retried, then the static text stands."""
    return call_peer_with_retries(
        self,
        lambda: action_enrich(action_id=action_id),
        lambda: action_enrich_give_up(action_id=action_id),
        # The static text standing is the designed outcome (FR-5), not a failure to retry.
        fail_after_last_retry=False,
    )
