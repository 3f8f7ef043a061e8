"""Beat tasks work on every region, one after the other, each in its own scope (NFR-3)."""

from __future__ import annotations

from collections.abc import Callable

from mmm_project.residency import each_region


def sweep_every_region(sweep: Callable[[], int]) -> int:
    """Run ``sweep`` once per region (its queries and the tasks it queues stay in that region);
    return the sum of what it returned."""
    return sum(sweep() for _ in each_region())
