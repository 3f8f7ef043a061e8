"""Tracing overhead (FR-15): decide with tracing off against tracing on with a no-op exporter.

Usage (from the project root):

    .venv/bin/python bench/tracing_overhead.py [--rounds 10] [--runs 60]

The database is prepared as in ``bench/playbook_scale.py`` (PostgreSQL scratch database
``<name>_bench`` when ``DATABASE_URL`` names one, else a temporary SQLite file; fatigue in the
in-process store) with one tenant and one matching playbook (Mirror + Mentor). Tracing is set up
once per process, so each mode runs in child processes, alternating off and on ``--rounds`` times
(a shared 2-core machine drifts over a run; alternating gives both modes the same conditions).
Each child measures ``--runs`` calls of ``decision_create`` and as many ``POST /v1/mmm/decide``
through Django's handler in-process (authentication, middleware and, when on, the request span),
after 20 warm-up calls of each.

"On" is ``mmm_project.tracing.install`` with a ``BatchSpanProcessor`` over an exporter that only
counts: every span of the flow, Django, psycopg and redis instrumentation is made, batched and
handed over; nothing is sent. Writes ``bench/reports/tracing_overhead.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "bench" / "reports"
TENANT = "bench-tracing"
WARM_UP = 20
KINDS = ("direct", "http")
CLOCKS = ("wall", "cpu")
LABELS = {"direct": "`decision_create`", "http": "`POST /v1/mmm/decide` (in-process)"}


def _request(signal_id: str) -> dict:
    return {
        "tenant_id": TENANT,
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }


def _install_tracing() -> object:
    """Tracing on, exporting to a counter (before Django loads: its middleware joins then)."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from mmm_project import tracing

    class CountingExporter(SpanExporter):
        spans = 0

        def export(self, spans):
            CountingExporter.spans += len(spans)
            return SpanExportResult.SUCCESS

    assert tracing.install("bench", [BatchSpanProcessor(CountingExporter())])
    return CountingExporter


def _timed(call, *args, **kwargs) -> tuple[object, float, float]:
    """``call(...)``, its wall-clock time and this process's CPU time (all threads), in ms."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call(*args, **kwargs)
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def child(mode: str, tag: str, runs: int) -> dict:
    """Measure in this process; return the samples in ms by kind and clock (and the spans made)."""
    exporter = _install_tracing() if mode == "on" else None
    import django

    django.setup()
    from django.test import Client

    from decisions.services.decide import decision_create
    from mmm_project.auth.principal import Principal
    from mmm_project.auth.tokens import mint_token

    principal = Principal(actor_id="bench-actor", tenant_id=TENANT, scopes=frozenset({"mmm.decide"}))
    token = mint_token(tenant_id=TENANT, actor_id="bench-actor", scopes=["mmm.decide"])
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    samples = {kind: {"wall": [], "cpu": []} for kind in KINDS}
    for i in range(runs + WARM_UP):
        result, wall, cpu = _timed(decision_create, principal=principal, data=_request(f"{tag}-d-{i}"))
        assert result.decision.actions.count() == 2, "the matching playbook must fire"
        body = _request(f"{tag}-h-{i}")
        response, wall_http, cpu_http = _timed(
            client.post, "/v1/mmm/decide", body, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        if i >= WARM_UP:
            for kind, values in (("direct", (wall, cpu)), ("http", (wall_http, cpu_http))):
                samples[kind]["wall"].append(values[0])
                samples[kind]["cpu"].append(values[1])
    spans = 0
    if exporter is not None:
        from opentelemetry import trace

        trace.get_tracer_provider().shutdown()  # flushes the batch
        spans = exporter.spans
    return {"samples": samples, "spans": spans, "decides": 2 * (runs + WARM_UP)}


def _seed() -> None:
    from playbooks.services import playbook_create, playbook_publish
    from preferences.models import TenantPolicy

    TenantPolicy.objects.create(
        tenant_id=TENANT,
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
    playbook = playbook_create(tenant_id=TENANT, document=document, actor_id="bench")
    playbook_publish(playbook=playbook, actor_id="bench")


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 3),
        "samples": len(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="off/on child pairs")
    parser.add_argument("--runs", type=int, default=60, help="measured decides of each kind per child")
    parser.add_argument("--child", choices=("off", "on"), help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    if args.child:
        print(json.dumps(child(args.child, args.tag, args.runs)))
        return 0

    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        del os.environ[name]  # "off" is off: no exporter named
    sys.path.insert(0, str(ROOT / "bench"))
    from playbook_scale import _prepare_database

    database = _prepare_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    _seed()

    collected = {m: {k: {c: [] for c in CLOCKS} for k in KINDS} for m in ("off", "on")}
    pairs: list[dict[str, float]] = []  # each round's off and on p50 (decision_create, wall)
    spans_per_decide = 0.0
    for round_ in range(args.rounds):
        pair = {}
        for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            command = [sys.executable, __file__, "--child", mode, "--tag", f"{mode}{round_}"]
            done = subprocess.run(
                [*command, "--runs", str(args.runs)], capture_output=True, text=True, check=True, timeout=900
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            for kind in KINDS:
                for clock in CLOCKS:
                    collected[mode][kind][clock] += result["samples"][kind][clock]
            if mode == "on":
                spans_per_decide = round(result["spans"] / result["decides"], 1)
            pair[mode] = round(statistics.median(result["samples"]["direct"]["wall"]), 3)
        pairs.append(pair)
        print(f"round {round_ + 1}/{args.rounds}: decision_create p50 ms {pair}", flush=True)

    results = {
        mode: {kind: {clock: _summary(collected[mode][kind][clock]) for clock in CLOCKS} for kind in KINDS}
        for mode in collected
    }
    ratios = {
        kind: {
            clock: round(results["on"][kind][clock]["p50_ms"] / results["off"][kind][clock]["p50_ms"], 3)
            for clock in CLOCKS
        }
        for kind in KINDS
    }
    paired = round(statistics.median(p["on"] / p["off"] for p in pairs), 3)
    report = {
        "benchmark": "tracing_overhead (FR-15)",
        "command": f"python bench/tracing_overhead.py --rounds {args.rounds} --runs {args.runs}",
        "database": database,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "results": results,
        "p50_ratio_on_to_off": ratios,
        "median_of_round_p50_ratios_decision_create_wall": paired,
        "decision_create_wall_p50_ms_per_round": pairs,
        "spans_per_decide_on": spans_per_decide,
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "tracing_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = "\n".join(
        f"| {LABELS[kind]} | {clock} | {results['off'][kind][clock]['p50_ms']} | "
        f"{results['on'][kind][clock]['p50_ms']} | {results['off'][kind][clock]['p95_ms']} | "
        f"{results['on'][kind][clock]['p95_ms']} | **{ratios[kind][clock]}** |"
        for kind in KINDS
        for clock in CLOCKS
    )
    rounds = ", ".join(f"{p['off']} / {p['on']}" for p in pairs)
    (REPORTS / "tracing_overhead.md").write_text(
        f"# Tracing overhead (FR-15)\n\n"
        f"`{report['command']}` on {database}, Python {report['python']}, {report['machine']}.\n\n"
        f"Off: no exporter named (the embedded default). On: the tracer provider with a batch span\n"
        f"processor over an exporter that sends nothing; Django, psycopg and redis instrumented and the\n"
        f"decision-flow spans made ({spans_per_decide} spans per decide on average). Off and on run in\n"
        f"alternating child processes, {args.rounds} of each, {args.runs} measured calls of each kind\n"
        f"per process after {WARM_UP} warm-up calls. Wall is elapsed time; cpu is the process's CPU\n"
        f"time over all its threads (the exporter's included), less sensitive to other load.\n\n"
        f"| decide | clock | off p50 ms | on p50 ms | off p95 ms | on p95 ms | p50 ratio on/off |\n"
        f"|---|---|---|---|---|---|---|\n{rows}\n\n"
        f"`decision_create` wall p50 per round, off / on: {rounds}; median of the rounds' ratios\n"
        f"**{paired}**.\n"
    )
    print(json.dumps({"p50_ratio_on_to_off": ratios, "median_of_round_ratios": paired}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
