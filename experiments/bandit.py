"""Thompson sampling over a bandit experiment's variants (FR-9, spec 8 "Adaptive Learning").

Each variant has a Beta(alpha, beta) posterior of its acceptance rate (``BanditArm``). A decision
draws one value from every posterior with a random generator seeded from the experiment and the
decision's signal id, and takes the variant with the highest draw: variants that did better are
chosen more often, the others still now and then. The seed, the posteriors used and the draws are
recorded on the decision and its receipt, so the choice can be recomputed exactly
(``thompson_choose`` with the same arguments returns the same variant). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Rewards (decisions.services.outcomes): an accepted action is a success; a dismissed or ignored one
# a failure; "shown" alone, "failed" (a delivery problem) and feedback are not rewards.
SUCCESS_RESULTS = frozenset({"accepted"})
FAILURE_RESULTS = frozenset({"dismissed", "ignored"})
REWARD_RESULTS = SUCCESS_RESULTS | FAILURE_RESULTS


@dataclass(frozen=True)
class Posterior:
    """One variant's Beta posterior: ``alpha = 1 + successes``, ``beta = 1 + failures``."""

    variant: str
    alpha: int
    beta: int

    @property
    def mean(self) -> float:
        """The posterior mean acceptance rate, in [0, 1]."""
        return self.alpha / (self.alpha + self.beta)


def bandit_seed(experiment_id: str, seed_key: str) -> str:
    """The hex seed of one decision's draws: ``sha256("{experiment_id}:{seed_key}")``, first 16 bytes.

    ``seed_key`` is the decision's signal id (unique per tenant: a signal decides once, FR-1).
    """
    return hashlib.sha256(f"{experiment_id}:{seed_key}".encode()).hexdigest()[:32]


def thompson_choose(
    experiment_id: str, seed_key: str, posteriors: Sequence[Posterior]
) -> tuple[str, dict[str, Any]]:
    """The variant with the highest Beta draw, and the record of the choice.

    Returns ``(variant, {"seed", "posteriors": {variant: [alpha, beta]}, "samples": {variant:
    draw}})``; draws are rounded to 6 places in the record only. Variants draw in name order (a
    stored record's key order does not matter); a tie goes to the first name.

    Raises:
        ValueError: no posteriors, or an alpha or beta below 1.
    """
    if not posteriors or any(p.alpha < 1 or p.beta < 1 for p in posteriors):
        raise ValueError("posteriors need alpha >= 1 and beta >= 1")
    seed = bandit_seed(experiment_id, seed_key)
    rng = random.Random(int(seed, 16))  # noqa: S311 - reproducible draws by design, not a secret
    ordered = sorted(posteriors, key=lambda p: p.variant)
    samples = {p.variant: rng.betavariate(p.alpha, p.beta) for p in ordered}
    chosen = max(ordered, key=lambda p: samples[p.variant]).variant
    return chosen, {
        "seed": seed,
        "posteriors": {p.variant: [p.alpha, p.beta] for p in posteriors},
        "samples": {name: round(value, 6) for name, value in samples.items()},
    }
