"""What a backtest reports (issue 15): counts per day and per actor, the busiest actors under
pseudonyms, and the overlap with the tenant's published playbooks. Aggregates only: no payloads,
no actor ids (pseudonyms are keyed per backtest, so two reports cannot be joined on them)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from decisions.backtest.simulation import Simulated

BUSIEST_ACTORS = 10
PER_ACTOR_LIMIT = 500  # the report lists at most this many actors (the busiest first)


def _percentile(values: list[int], fraction: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class BacktestReport:
    """Accumulates simulated decisions for the tested playbook and for every playbook together."""

    def __init__(self, *, playbook_id: str, timezone: str, names: dict[str, str]) -> None:
        self.playbook_id = playbook_id
        self.zone = ZoneInfo(timezone)
        self.names = names  # playbook id -> name, the published ones
        self._key = secrets.token_bytes(16)
        self.replayed = self.fitting = self.matched = 0
        self.delivered_by_type: Counter[str] = Counter()
        self.suppressed: Counter[str] = Counter()
        self.all_delivered = 0
        self.all_suppressed: Counter[str] = Counter()
        self.days: dict[str, dict[str, Any]] = defaultdict(lambda: {"delivered": 0, "suppressed": Counter()})
        self.actors: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"delivered": 0, "suppressed": 0, "per_day": Counter()}
        )
        self.overlap: Counter[str] = Counter()

    def pseudonym(self, actor_id: str) -> str:
        return (
            "actor-"
            + hmac.new(self._key, actor_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
        )

    def add(self, result: Simulated) -> None:
        self.replayed += 1
        self.all_delivered += len(result.delivered)
        for record in result.suppressed:  # a summary record counts the templates it stands for
            self.all_suppressed[record["reason"].split(":")[0]] += record.get("count", 1)
        matched_ids = {c.playbook_id for c in result.matched}
        if self.playbook_id in result.fitting:
            self.fitting += 1
        if self.playbook_id not in matched_ids:
            return
        self.matched += 1
        self.overlap.update(matched_ids - {self.playbook_id})
        delivered = [a for a in result.delivered if a.playbook_id == self.playbook_id]
        suppressed = [
            r["reason"].split(":")[0] for r in result.suppressed if r.get("playbook_id") == self.playbook_id
        ]
        day = result.signal.decided_at.astimezone(self.zone).date().isoformat()
        self.days[day]["delivered"] += len(delivered)
        self.days[day]["suppressed"].update(suppressed)
        actor = self.actors[result.signal.data.actor_id]
        actor["delivered"] += len(delivered)
        actor["suppressed"] += len(suppressed)
        actor["per_day"][day] += len(delivered)
        self.delivered_by_type.update(a.type for a in delivered)
        self.suppressed.update(suppressed)

    def as_dict(self) -> dict[str, Any]:
        """Shape: see ``BacktestResultSerializer`` (decisions/backtest/serializers.py)."""
        actors = sorted(self.actors.items(), key=lambda item: (-item[1]["delivered"], -item[1]["suppressed"]))
        per_actor = [
            {
                "actor": self.pseudonym(actor_id),
                "delivered": entry["delivered"],
                "suppressed": entry["suppressed"],
                "max_delivered_per_day": max(entry["per_day"].values(), default=0),
            }
            for actor_id, entry in actors[:PER_ACTOR_LIMIT]
        ]
        daily = [n for _, entry in self.actors.items() for n in entry["per_day"].values()]
        return {
            "signals": {"replayed": self.replayed, "fitting": self.fitting, "matched": self.matched},
            "playbook": {
                "delivered": sum(self.delivered_by_type.values()),
                "delivered_by_type": dict(sorted(self.delivered_by_type.items())),
                "suppressed": sum(self.suppressed.values()),
                "suppressed_by_reason": dict(sorted(self.suppressed.items())),
            },
            "all_playbooks": {
                "delivered": self.all_delivered,
                "suppressed": sum(self.all_suppressed.values()),
                "suppressed_by_reason": dict(sorted(self.all_suppressed.items())),
            },
            "per_day": [
                {
                    "date": day,
                    "delivered": entry["delivered"],
                    "suppressed": sum(entry["suppressed"].values()),
                    "suppressed_by_reason": dict(sorted(entry["suppressed"].items())),
                }
                for day, entry in sorted(self.days.items())
            ],
            "per_actor": {
                "actors": len(self.actors),
                "delivered_per_actor_day": {
                    "p50": _percentile(daily, 0.5),
                    "p90": _percentile(daily, 0.9),
                    "max": max(daily, default=0),
                },
                "actors_listed": per_actor,
            },
            "busiest_actors": per_actor[:BUSIEST_ACTORS],
            "overlap": [
                {"playbook_id": pid, "name": self.names.get(pid, ""), "signals_both_matched": n}
                for pid, n in self.overlap.most_common()
            ],
        }
