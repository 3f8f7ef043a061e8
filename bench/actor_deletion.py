"""Actor deletion at scale (NFR-3, PR-MMM-02): an actor with 100,000 decisions (and their signals
and outcomes) is forgotten in bounded batches, each in short transactions, never one long one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mmm .venv/bin/python bench/actor_deletion.py \\
        [--decisions 100000]

Uses a scratch database ``<name>_bench`` (dropped and created). Runs ``actor_deletion_run`` until
it is done, timing each batch (each batch's transactions are at most one table's batch of rows),
and writes ``bench/reports/actor_deletion.{json,md}``: rows anonymised per second, batches, the
longest batch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "bench" / "reports"
sys.path.insert(0, str(ROOT / "bench"))
from playbook_scale import _prepare_database  # noqa: E402  (the same scratch database set-up)

ACTOR, TENANT = "bench-actor-1", "bench"


def _seed(decisions: int) -> None:
    from django.utils import timezone

    from decisions.models import Decision, Outcome, Signal

    now, chunk = timezone.now(), 5000
    for start in range(0, decisions, chunk):
        count = min(chunk, decisions - start)
        signals = Signal.objects.bulk_create(
            Signal(
                tenant_id=TENANT,
                signal_id=f"s-{start + i}",
                actor_id=ACTOR,
                source="ci",
                event_type="ci.check_run.failed",
                ts=now,
                status="decided",
            )
            for i in range(count)
        )
        made = Decision.objects.bulk_create(
            Decision(
                tenant_id=TENANT,
                actor_id=ACTOR,
                signal=signal,
                context={"actor": {"id": ACTOR, "type": "human", "roles": []}},
            )
            for signal in signals
        )
        Outcome.objects.bulk_create(
            Outcome(tenant_id=TENANT, decision=d, action_type="mirror", actor_id=ACTOR, result="shown")
            for d in made[: count // 10]
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    args = parser.parse_args()
    database = _prepare_database()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from decisions.models import ActorDeletionRequest
    from decisions.privacy.services import BATCH_SIZE, actor_deletion_run

    started = time.perf_counter()
    _seed(args.decisions)
    seed_seconds = time.perf_counter() - started
    request = ActorDeletionRequest.objects.create(
        tenant_id=TENANT,
        actor_id=ACTOR,
        anonymous_id=f"deleted-{uuid.uuid4().hex[:16]}",
        requested_via="bench",
    )
    batches: list[float] = []
    started = time.perf_counter()
    more = True
    while more:
        begun = time.perf_counter()
        more = actor_deletion_run(request_id=str(request.pk))
        batches.append(time.perf_counter() - begun)
    total = time.perf_counter() - started
    request.refresh_from_db()
    rows = sum(request.counts.get(t, 0) for t in ("signals", "decisions", "outcomes"))
    report = {
        "benchmark": "actor_deletion",
        "command": f"python bench/actor_deletion.py --decisions {args.decisions}",
        "database": database,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "status": request.status,
        "counts": request.counts,
        "rows_anonymised": rows,
        "batch_size_per_table": BATCH_SIZE,
        "batches": len(batches),
        "seconds": round(total, 2),
        "rows_per_second": round(rows / total),
        "longest_batch_seconds": round(max(batches), 3),
        "seed_seconds": round(seed_seconds, 1),
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "actor_deletion.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS / "actor_deletion.md").write_text(
        "# Actor deletion at scale (NFR-3, PR-MMM-02)\n\n"
        f"`{report['command']}` on {database}, Python {report['python']}, {report['machine']}.\n\n"
        f"An actor with {args.decisions:,} decisions, as many signals and {args.decisions // 10:,} outcomes: "
        f"{rows:,} rows anonymised in {report['seconds']} s (**{report['rows_per_second']:,} rows/s**), "
        f"{len(batches)} batches of at most {BATCH_SIZE} rows per table, the longest batch "
        f"{report['longest_batch_seconds']} s (each table's batch is its own transaction). "
        f"Final status: {request.status}.\n"
    )
    print(json.dumps(report, indent=2))
    return 0 if request.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
