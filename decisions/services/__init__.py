"""The decide flow's use cases, one module each: ``evaluate`` (steps 3-9 of DESIGN.md), ``decide``
(``POST /v1/mmm/decide`` and ingested signals), ``outcomes``, ``approvals``, ``dry_run``, and
``peers`` (what a decision asks of peer services)."""
