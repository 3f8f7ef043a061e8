"""What the fault tests check in the private database: decisions whole, signals decided once."""

from __future__ import annotations

import psycopg

from tests.faults.instances import query


def half_written(conn: psycopg.Connection) -> dict[str, int]:
    """Counts of partial writes, each 0 when every decision was written whole (one transaction):

    - ``no_receipt``: decisions without exactly one decision receipt;
    - ``actions_mismatch``: decisions whose receipt lists other actions than the stored ones;
    - ``no_delivery``: actions without one delivery record per surface.
    """
    no_receipt = query(
        conn,
        "SELECT count(*) FROM mmm_decisions d WHERE (SELECT count(*) FROM mmm_receipts r "
        "WHERE r.decision_id = d.id AND r.kind = 'decision') <> 1",
    )[0][0]
    mismatch = query(
        conn,
        "SELECT count(*) FROM mmm_decisions d JOIN mmm_receipts r ON r.decision_id = d.id "
        "AND r.kind = 'decision' WHERE "
        "(SELECT coalesce(jsonb_agg(p->>'action_id' ORDER BY p->>'action_id'), '[]') "
        " FROM jsonb_array_elements(r.payload->'proposed_actions') p) <> "
        "(SELECT coalesce(jsonb_agg(a.id::text ORDER BY a.id::text), '[]') "
        " FROM mmm_actions a WHERE a.decision_id = d.id)",
    )[0][0]
    no_delivery = query(
        conn,
        "SELECT count(*) FROM mmm_actions a WHERE (SELECT count(*) FROM mmm_deliveries x "
        "WHERE x.action_id = a.id) <> jsonb_array_length(a.surfaces)",
    )[0][0]
    return {"no_receipt": no_receipt, "actions_mismatch": mismatch, "no_delivery": no_delivery}


def decided(conn: psycopg.Connection, tenant_id: str, signal_ids: list[str]) -> tuple[int, int]:
    """(decisions, distinct signals decided) among ``signal_ids`` of ``tenant_id``."""
    return query(
        conn,
        "SELECT count(d.id), count(DISTINCT s.id) FROM mmm_signals s JOIN mmm_decisions d "
        "ON d.signal_id = s.id WHERE s.tenant_id = %s AND s.signal_id = ANY(%s)",
        tenant_id,
        signal_ids,
    )[0]
