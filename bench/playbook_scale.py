"""PT-MMM-02 benchmark: decide time for a tenant with 10 against 10,000 non-matching playbooks.

Usage (from the project root):

    .venv/bin/python bench/playbook_scale.py [--sizes 10,10000] [--runs 300]

With ``DATABASE_URL`` pointing at PostgreSQL it uses a scratch database ``<name>_bench`` on that
server (dropped and re-created); otherwise a SQLite file in a temporary folder. Fatigue uses the
in-process store (Redis is out of the measurement). Each tenant has one matching published
playbook (Mirror + Mentor) plus N published playbooks the signal does not fit: a third of other
event types, a third of another source, a third with a higher minimum severity. NFR-1
degradation: tenants with 10 and 1,000 playbooks that all match (``--matching``).

Writes ``bench/reports/playbook_scale.md`` and ``.json`` with the median and p95 of
``decision_create`` and of the trigger lookup alone, per size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "bench" / "reports"


def _prepare_database() -> str:
    """Point DATABASE_URL at a scratch database; return a description of it."""
    url = os.environ.get("DATABASE_URL", "")
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        base, _, name = url.rpartition("/")
        scratch = f"{name or 'mmm'}_bench"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            conn.execute(f'CREATE DATABASE "{scratch}"')
        os.environ["DATABASE_URL"] = f"{base}/{scratch}"
        return f"PostgreSQL ({scratch})"
    folder = tempfile.mkdtemp(prefix="mmm-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["LOCAL_STATE_DIR"] = folder
    return "SQLite (temporary file)"


def _seed(tenant_id: str, size: int, *, matching: bool = False) -> None:
    """One matching playbook through the services, then ``size`` published clones: non-matching,
    or with ``matching`` clones whose triggers and condition fit the signal too (NFR-1 degradation)."""
    from playbooks.models import Playbook, PlaybookStatus, PlaybookTrigger, PlaybookVersion
    from playbooks.services import playbook_create, playbook_publish
    from preferences.models import TenantPolicy

    TenantPolicy.objects.create(
        tenant_id=tenant_id,
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=10**6,
        max_actions_per_day=10**6,
        max_actions_per_repo_per_day=10**6,
    )
    document = {
        "name": "ci-failing",
        "triggers": [{"event_type": "ci.check_run.failed", "source": "github"}],
        "conditions": ['context.branch == "main"'],
        "actions": [
            {
                "type": "mirror",
                "surfaces": ["ide", "ci"],
                "title": "CI failed on {{ context.branch }}",
                "body": "{{ recent_signals | length }} recent signals.",
            },
            {
                "type": "mentor",
                "surfaces": ["ide"],
                "title": "Read the first failing step",
                "body": "It usually explains the failure.",
                "rationale": {"why_relevant": "red {{ context.branch }}", "baseline_comparison": "green"},
            },
        ],
    }
    template = playbook_publish(
        playbook=playbook_create(tenant_id=tenant_id, document=document, actor_id="bench"), actor_id="bench"
    )
    version = template.published_version
    playbooks = [
        Playbook(tenant_id=tenant_id, name=f"other-{i}", status=PlaybookStatus.PUBLISHED, latest_version=1)
        for i in range(size)
    ]
    Playbook.objects.bulk_create(playbooks, batch_size=2000)
    versions = [
        PlaybookVersion(
            tenant_id=tenant_id,
            playbook=p,
            version=1,
            triggers=version.triggers,
            conditions=version.conditions,
            actions=version.actions,
        )
        for p in playbooks
    ]
    PlaybookVersion.objects.bulk_create(versions, batch_size=2000)
    for playbook, v in zip(playbooks, versions, strict=True):
        playbook.published_version = v
    Playbook.objects.bulk_update(playbooks, ["published_version"], batch_size=2000)
    triggers = []
    for i, (playbook, v) in enumerate(zip(playbooks, versions, strict=True)):
        kind = i % 3
        if matching:
            triggers.append(
                PlaybookTrigger(
                    tenant_id=tenant_id,
                    playbook=playbook,
                    version=v,
                    event_type="ci.check_run.failed",
                    source="github",
                    min_severity_rank=0,
                )
            )
            continue
        triggers.append(
            PlaybookTrigger(
                tenant_id=tenant_id,
                playbook=playbook,
                version=v,
                event_type="ci.check_run.failed" if kind else f"deploy.kind{i}",
                source="gitlab" if kind == 1 else "github",
                min_severity_rank=4 if kind == 2 else 0,  # critical only; the signal is high
            )
        )
    PlaybookTrigger.objects.bulk_create(triggers, batch_size=2000)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after a bulk load
            cursor.execute("ANALYZE")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure(tenants: dict[str, tuple[int, int]], runs: int) -> dict[str, dict[str, float]]:
    """Decide and look up for every tenant in turn, ``runs`` times each after 20 warm-up rounds.

    Interleaving the tenants gives each size the same machine conditions (a 2-core machine
    shared with other work drifts over a run).
    """
    from decisions.services.decide import decision_create
    from mmm_project.auth.principal import Principal
    from playbooks.selectors import playbook_candidates

    tenant_ids = list(tenants)
    degraded = dict.fromkeys(tenant_ids, 0)  # decides past the NFR-1 latency budget (no actions)
    decide_ms: dict[str, list[float]] = {t: [] for t in tenant_ids}
    lookup_ms: dict[str, list[float]] = {t: [] for t in tenant_ids}
    for i in range(runs + 20):
        for tenant_id in tenant_ids:
            expected_actions, expected_found = tenants[tenant_id]
            principal = Principal(
                actor_id="bench-actor", tenant_id=tenant_id, scopes=frozenset({"mmm.decide"})
            )
            request = {
                "tenant_id": tenant_id,
                "context": {"repo_id": "org/app", "branch": "main"},
                "signal": {
                    "signal_id": f"{tenant_id}-{i}",
                    "source": "github",
                    "event_type": "ci.check_run.failed",
                    "severity": "high",
                },
            }
            started = time.perf_counter()
            result = decision_create(principal=principal, data=request)
            elapsed = (time.perf_counter() - started) * 1000
            got = result.decision.actions.count()
            degraded[tenant_id] += int(result.decision.degraded_mode)
            assert got == expected_actions or result.decision.degraded_mode, f"{tenant_id}: {got} actions"
            started = time.perf_counter()
            found = playbook_candidates(
                tenant_id=tenant_id, event_type="ci.check_run.failed", source="github", severity="high"
            )
            lookup = (time.perf_counter() - started) * 1000
            assert len(found) == expected_found
            if i >= 20:
                decide_ms[tenant_id].append(elapsed)
                lookup_ms[tenant_id].append(lookup)
    return {
        tenant_id: {
            "decide_median_ms": round(statistics.median(decide_ms[tenant_id]), 3),
            "decide_p95_ms": round(_percentile(decide_ms[tenant_id], 0.95), 3),
            "lookup_median_ms": round(statistics.median(lookup_ms[tenant_id]), 3),
            "lookup_p95_ms": round(_percentile(lookup_ms[tenant_id], 0.95), 3),
            "degraded_decides": degraded[tenant_id],
        }
        for tenant_id in tenant_ids
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10,10000", help="non-matching playbooks per tenant, comma-separated"
    )
    parser.add_argument(
        "--matching",
        default="10,1000",
        help="matching playbooks per tenant (NFR-1 degradation), comma-separated",
    )
    parser.add_argument("--runs", type=int, default=300, help="measured decides per tenant")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    matching = [int(s) for s in args.matching.split(",") if s]

    database = _prepare_database()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    seed_seconds = {}
    for size in sizes:
        started = time.perf_counter()
        _seed(f"bench-{size}", size)
        seed_seconds[size] = round(time.perf_counter() - started, 1)
    for count in matching:
        _seed(f"match-{count}", count - 1, matching=True)
    tenants = {f"bench-{size}": (2, 1) for size in sizes}
    tenants.update({f"match-{count}": (min(3, 2 * count), count) for count in matching})
    measured = _measure(tenants, args.runs)
    results = {size: {**measured[f"bench-{size}"], "seed_seconds": seed_seconds[size]} for size in sizes}
    by_matching = {count: measured[f"match-{count}"] for count in matching}
    for count, values in by_matching.items():
        print(f"{count:>6} matching playbooks: {values}", flush=True)
    matching_ratio = (
        round(
            by_matching[max(matching)]["decide_median_ms"] / by_matching[min(matching)]["decide_median_ms"], 2
        )
        if matching
        else None
    )
    for size, values in results.items():
        print(f"{size:>6} non-matching playbooks: {values}", flush=True)

    smallest, largest = results[min(sizes)], results[max(sizes)]
    ratio = round(largest["decide_median_ms"] / smallest["decide_median_ms"], 2)
    report = {
        "benchmark": "playbook_scale (PT-MMM-02)",
        "command": "python bench/playbook_scale.py "
        f"--sizes {args.sizes} --matching {args.matching} --runs {args.runs}",
        "database": database,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "runs_per_size": args.runs,
        "results_by_size": results,
        "decide_median_ratio_largest_to_smallest": ratio,
        "results_by_matching_playbooks": by_matching,
        "decide_median_ratio_most_to_fewest_matching": matching_ratio,
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "playbook_scale.json").write_text(json.dumps(report, indent=2) + "\n")
    columns = ("decide_median_ms", "decide_p95_ms", "lookup_median_ms", "lookup_p95_ms")
    rows = "\n".join(
        f"| {size:,} | " + " | ".join(str(r[c]) for c in columns) + " |" for size, r in results.items()
    )
    matching_rows = "\n".join(
        f"| {count:,} | " + " | ".join(str(r[c]) for c in columns) + " |" for count, r in by_matching.items()
    )
    (REPORTS / "playbook_scale.md").write_text(
        f"# Playbook scale (PT-MMM-02)\n\n"
        f"`{report['command']}` on {database}, Python {report['python']}, {report['machine']}.\n"
        f"Each tenant: 1 matching playbook (Mirror + Mentor, one CEL condition) plus N non-matching\n"
        f"published playbooks, statistics up to date (ANALYZE); {args.runs} measured `decision_create`\n"
        f"calls per tenant after 20 warm-up calls, the tenants interleaved call by call.\n\n"
        f"| non-matching playbooks | decide median ms | decide p95 ms | lookup median ms | lookup p95 ms |\n"
        f"|---|---|---|---|---|\n{rows}\n\n"
        f"Median decide time, largest over smallest: **{ratio}x**.\n\n"
        f"## Matching playbooks (NFR-1 degradation)\n\n"
        f"Tenants where every playbook matches (2 actions each, cap 3 per decision):\n\n"
        f"| matching playbooks | decide median ms | decide p95 ms | lookup median ms | lookup p95 ms |\n"
        f"|---|---|---|---|---|\n{matching_rows}\n\n"
        f"Median decide time, most over fewest matching: **{matching_ratio}x**.\n"
    )
    print(f"ratio {ratio}; report in {REPORTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
