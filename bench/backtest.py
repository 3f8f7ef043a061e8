"""Backtest benchmark (issue 15): 100,000 stored signals replayed through the engine in <= 60 s.

Usage (from the project root):

    .venv/bin/python bench/backtest.py [--signals 100000] [--actors 300] [--days 14]

With ``DATABASE_URL`` pointing at PostgreSQL it uses a scratch database ``<name>_bench`` on that
server (dropped and re-created); otherwise a SQLite file in a temporary folder. A tenant with the
starter pack published (7 playbooks, default policy: 3 actions an hour, 10 a day, quiet hours
22:00-06:00 UTC) gets ``--signals`` stored signals spread evenly over the last ``--days`` days,
from ``--actors`` actors on 40 repositories, in the event mix below (about 85% fit a starter
trigger). The measured time is ``playbook_backtest`` end to end: reading the signals, the
simulation of every published playbook with the tested one, and the report; the same work the
``backtest.run`` task does.

Writes ``bench/reports/backtest.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "bench" / "reports"
sys.path.insert(0, str(ROOT / "bench"))

# (event type, source, severity, share): what a busy engineering org sends in two weeks.
MIX = (
    ("ci.workflow_job.failed", "github", "high", 0.25),
    ("ci.check_run.failed", "github", "high", 0.15),
    ("ci.test.flaky", "ci", "medium", 0.10),
    ("review.changes_requested", "github", "low", 0.12),
    ("deploy.failed", "github", "high", 0.05),
    ("security.dependabot.opened", "github", "high", 0.05),
    ("security.secret_scanning.opened", "github", "critical", 0.03),
    ("incident.firing", "alertmanager", "medium", 0.10),
    ("vcs.push", "github", "info", 0.15),
)
PLAYBOOK = "ci-failing-on-default-branch"


def _seed(tenant_id: str, *, signals: int, actors: int, days: int) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from decisions.models import Signal, SignalStatus

    starter = str(ROOT / "playbooks" / "starter")
    call_command("load_playbooks", starter, "--tenant", tenant_id, "--publish", stdout=io.StringIO())
    end = timezone.now() - timedelta(minutes=1)
    step = (timedelta(days=days) - timedelta(minutes=10)) / signals  # inside the window
    weights = []
    for event_type, source, severity, share in MIX:
        weights += [(event_type, source, severity)] * round(share * 100)
    rows = []
    for n in range(signals):
        event_type, source, severity = weights[(n * 37) % len(weights)]
        at = end - step * (signals - n)
        rows.append(
            Signal(
                tenant_id=tenant_id,
                signal_id=f"bench-{n}",
                actor_id=f"dev-{(n * 7919 + n // 7) % actors}",
                source=source,
                event_type=event_type,
                severity=severity,
                ts=at - timedelta(seconds=5),
                context={
                    "repo_id": f"org/repo-{n % 40}",
                    "branch": "main" if n % 3 else f"feature-{n % 11}",
                    "roles": ["developer"],
                },
                status=SignalStatus.DECIDED,
                received_at=at,
            )
        )
    Signal.objects.bulk_create(rows, batch_size=5000)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after a bulk load
            cursor.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--actors", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()

    from playbook_scale import _prepare_database

    database = _prepare_database()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from decisions.backtest.services import playbook_backtest
    from playbooks.models import Playbook

    tenant_id = "bench"
    started = time.perf_counter()
    _seed(tenant_id, signals=args.signals, actors=args.actors, days=args.days)
    seed_seconds = round(time.perf_counter() - started, 1)
    playbook = Playbook.objects.get(tenant_id=tenant_id, name=PLAYBOOK)
    end = timezone.now()
    started, cpu = time.perf_counter(), time.process_time()
    result = playbook_backtest(
        tenant_id=tenant_id,
        playbook=playbook,
        version=playbook.published_version,
        start=end - timedelta(days=args.days),
        end=end,
    )
    seconds = round(time.perf_counter() - started, 2)
    cpu_seconds = round(time.process_time() - cpu, 2)  # this process only: robust to a busy machine
    assert result["signals"]["replayed"] == args.signals, result["signals"]
    report = {
        "benchmark": "backtest (issue 15)",
        "command": (
            f"python bench/backtest.py --signals {args.signals} --actors {args.actors} --days {args.days}"
        ),
        "database": database,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "signals": args.signals,
        "seed_seconds": seed_seconds,
        "backtest_seconds": seconds,
        "backtest_cpu_seconds": cpu_seconds,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "signals_per_second": round(args.signals / seconds),
        "target_seconds": 60,
        "within_target": seconds <= 60,
        "counts": {
            "signals": result["signals"],
            "playbook": result["playbook"],
            "all_playbooks": result["all_playbooks"],
            "actors": result["per_actor"]["actors"],
            "days": len(result["per_day"]),
        },
    }
    print(json.dumps(report, indent=2))
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "backtest.json").write_text(json.dumps(report, indent=2) + "\n")
    every = result["all_playbooks"]
    (REPORTS / "backtest.md").write_text(
        f"# Backtest (issue 15)\n\n"
        f"`{report['command']}` on {database}, Python {report['python']}, {report['machine']}.\n"
        f"Tenant: the starter pack published, default policy; {args.signals:,} stored signals over\n"
        f"{args.days} days from {args.actors} actors. Measured: `playbook_backtest` of `{PLAYBOOK}`\n"
        f"(read the window, simulate every published playbook in time order with in-memory fatigue,\n"
        f"build the report), as the `backtest.run` task does it.\n\n"
        f"| signals | backtest s (wall) | CPU s | load average | signals/s | target s | within |\n"
        f"|---|---|---|---|---|---|---|\n"
        f"| {args.signals:,} | {seconds} | {cpu_seconds} | {report['load_average_1min']} | "
        f"{report['signals_per_second']:,} | 60 | {'yes' if report['within_target'] else 'no'} |\n\n"
        f"Simulated: {result['signals']['matched']:,} signals matched the tested playbook; it would deliver\n"
        f"{result['playbook']['delivered']:,} actions and suppress {result['playbook']['suppressed']:,}; "
        f"all playbooks together {every['delivered']:,} delivered, {every['suppressed']:,} suppressed\n"
        f"({', '.join(f'{k} {v:,}' for k, v in every['suppressed_by_reason'].items())}).\n"
    )
    print(f"{seconds} s; report in {REPORTS}")
    return 0 if report["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
