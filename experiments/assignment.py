"""Deterministic variant assignment (FR-9, FR-13): the same unit always gets the same variant.

``sha256("{experiment_id}:{unit}")`` maps the unit (an actor or a team) to a point in [0, 1),
which falls into one variant's share of the cumulative weights. No state, no randomness: stable
across restarts, processes and machines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def unit_point(experiment_id: str, unit: str) -> float:
    """A uniform point in [0, 1) for ``unit`` within ``experiment_id``."""
    digest = hashlib.sha256(f"{experiment_id}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_variant(experiment_id: str, unit: str, variants: Sequence[tuple[str, float]]) -> str:
    """The name of the variant ``unit`` belongs to; ``variants`` is ``[(name, weight > 0), ...]``.

    Raises:
        ValueError: no variants, or a weight that is not positive.
    """
    if not variants or any(weight <= 0 for _, weight in variants):
        raise ValueError("variants need positive weights")
    total = sum(weight for _, weight in variants)
    point = unit_point(experiment_id, unit) * total
    cumulative = 0.0
    for name, weight in variants:
        cumulative += weight
        if point < cumulative:
            return name
    return variants[-1][0]  # float rounding at the very top of the range
