"""Decide over HTTP against the hardware floor (NFR-1, NFR-2, PT-MMM-01), in services mode.

Usage (from the project root; needs PostgreSQL, RabbitMQ with ``rabbitmqctl``, ``redis-server`` and
``wrk``, all Debian packages):

    .venv/bin/python bench/decide_http.py [--rounds 2] [--seconds-1 20] [--slices-1 4] [--seconds-8 60]
        [--ingest-signals 6000] [--server postgres://postgres@127.0.0.1:5432]

It starts the service as production runs it: the Procfile's ``web`` (gunicorn, 4 sync workers,
``DEBUG=false``, tokens verified against ``JWT_JWKS``, a real receipt signing key) and ``worker``
(Celery, 2 processes) against a scratch PostgreSQL database ``mmm_bench_http``, a private Redis
server and a RabbitMQ vhost ``mmm_bench_http``. The same gunicorn serves ``POST /bench/floor``
(``bench/http_service``): a bare DRF view that verifies the JWT and inserts one JSON row, the floor.

Ten tenants have the starter playbooks published, quotas high and no quiet hours or cool-down,
so actions are really written. After a warm-up (decides of the measured tenant and of the
ingestion tenant, long enough, ``--warm-up``, for nearly every one of their 1,000 actors to have
been decided once, so their pseudonym keys exist and their cached reads are warm as in steady
service: ingestion is then compared with direct decides on equal terms), each round measures,
interleaved, with ``wrk`` (``bench/wrk/post.lua``: unique signal ids, 1,000 actors, 200
repositories, ``ci.check_run.failed`` on ``main``): the floor and decide at 1 connection (p50,
p99; ``--slices-1`` short runs of each, alternating, as the shared machine's speed drifts within
minutes), then at 8 connections (throughput, p50, p99, errors). Then PT-MMM-01 (decide across 10
tenants, 8 connections) and ingestion (``POST /v1/mmm/signals`` batches of 50 from 4 threads;
decided signals/s through the worker).

Writes ``bench/reports/decide_http.{json,md}``: medians over the rounds (over the slices at 1
connection), ratios to the floor.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from tests.faults.instances import PrivateRedis, free_port, wait_for  # noqa: E402
from tests.faults.stack import Identity, procfile_command  # noqa: E402
from tests.integration.helpers import child_env  # noqa: E402

REPORTS = ROOT / "bench" / "reports"
LUA = ROOT / "bench" / "wrk" / "post.lua"
DB_NAME = "mmm_bench_http"
VHOST = "mmm_bench_http"
TENANTS = [f"bench-{n}" for n in range(10)]
INGEST_TENANT = "bench-ingest"
SEED = """
from preferences.models import TenantPolicy
for tenant in {tenants!r}:
    TenantPolicy.objects.update_or_create(tenant_id=tenant, defaults=dict(
        quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0, max_actions_per_hour=100000,
        max_actions_per_day=100000, max_actions_per_repo_per_day=100000))
"""


class Service:
    """The benchmark's database, Redis, vhost, web and worker processes."""

    def __init__(self, server: str) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="mmm-bench-http-"))
        self.server = server.rstrip("/")
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        self.redis = PrivateRedis("bench-http")
        self.redis.start()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True, check=False)
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", VHOST], capture_output=True, check=True)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
            capture_output=True,
            check=True,
        )
        self.identity = Identity()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = child_env(
            self.scratch,
            DJANGO_SETTINGS_MODULE="bench.http_service.settings",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            JWT_JWKS=self.identity.jwks,
            RECEIPT_SIGNING_KEY=base64.b64encode(os.urandom(32)).decode(),
            WEBHOOK_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=f"{self.server}/{DB_NAME}",
            REDIS_URL=self.redis.url(0),
            CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
            CELERY_TASK_ALWAYS_EAGER="false",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS="4",
            GUNICORN_CMD_ARGS=f"--control-socket {self.scratch / 'gunicorn.ctl'}",
            PROMETHEUS_MULTIPROC_DIR=str(self.scratch / "prometheus"),
            LOG_LEVEL="INFO",
            # The production budgets (NFR-1), not the test suite's generous ones.
            DECIDE_LATENCY_BUDGET_IDE_SECONDS="0.15",
            DECIDE_LATENCY_BUDGET_CI_SECONDS="0.5",
        )
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True
        )

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        with self.connect() as conn:
            conn.execute(
                "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, tenant_id text NOT NULL, "
                "body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
        for tenant in [*TENANTS, INGEST_TENANT]:
            self.manage("load_playbooks", "playbooks/starter", "--tenant", tenant, "--publish")
        self.manage("shell", "-c", SEED.format(tenants=[*TENANTS, INGEST_TENANT]))

    def start(self, name: str) -> None:
        log = (self.scratch / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(
            procfile_command(name),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        if name == "web":
            wait_for(self._answers, timeout=60, what="gunicorn")
        else:
            wait_for(lambda: "ready." in (self.scratch / "worker.log").read_text(), timeout=60, what="worker")

    def _answers(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/v1/mmm/health", timeout=2).status_code == 200
        return False

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(f"{self.server}/{DB_NAME}", autocommit=True)

    def token(self, tenant: str) -> str:
        return self.identity.token(tenant_id=tenant, actor_id="bench-producer", actor_type="ai_agent")

    def close(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        self.redis.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True, check=False)
        shutil.rmtree(self.scratch, ignore_errors=True)


def wrk(service: Service, path: str, *, connections: int, seconds: int, tenants: list[str]) -> dict:
    """One wrk run; its summary (``bench/wrk/post.lua``) plus requests/s."""
    out = service.scratch / f"wrk-{uuid.uuid4().hex}.json"
    env = {
        **os.environ,
        "RUN": uuid.uuid4().hex[:12],
        "TENANTS": ",".join(tenants),
        "TOKENS": ",".join(service.token(t) for t in tenants),
        "WRK_OUT": str(out),
    }
    threads = min(connections, 2)
    url = f"{service.url}{path}"
    subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), url],
        env=env,
        check=True,
        capture_output=True,
    )
    result = json.loads(out.read_text())
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in result if k.endswith("_errors")) + result["timeouts"]
    return result


def ingest(service: Service, total: int, batch: int = 50, threads: int = 4) -> dict:
    """POST ``total`` signals in batches, then wait until the worker decided them all."""
    token = service.token(INGEST_TENANT)
    run = uuid.uuid4().hex[:8]
    counter = iter(range(total // batch))
    lock = threading.Lock()
    statuses: dict[int, int] = {}

    def post() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                now = datetime.now(UTC).isoformat()
                body = [
                    {
                        "signal_id": f"ingest-{run}-{n}-{i}",
                        "tenant_id": INGEST_TENANT,
                        "actor_id": f"dev-{(n * batch + i) % 1000}",
                        "source": "github",
                        "event_type": "ci.check_run.failed",
                        "severity": "high",
                        "ts": now,
                        "context": {"repo_id": f"org/repo-{(n * batch + i) % 200}", "branch": "main"},
                    }
                    for i in range(batch)
                ]
                status = client.post(f"{service.url}/v1/mmm/signals", json=body).status_code
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    workers = [threading.Thread(target=post) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    posted = time.perf_counter() - started
    expected = (total // batch) * batch
    with service.connect() as conn:

        def decided() -> bool:
            (count,) = conn.execute(
                "SELECT count(*) FROM mmm_signals WHERE tenant_id = %s AND status = 'decided' "
                "AND signal_id LIKE %s",
                [INGEST_TENANT, f"ingest-{run}-%"],
            ).fetchone()
            return count >= expected

        wait_for(decided, timeout=600, what="the worker to decide every signal", interval=0.1)
    elapsed = time.perf_counter() - started
    return {
        "signals": expected,
        "post_seconds": round(posted, 2),
        "decided_seconds": round(elapsed, 2),
        "decided_per_second": expected / elapsed,
        "statuses": statuses,
    }


def written(service: Service) -> dict:
    with service.connect() as conn:
        decisions, actions, degraded = conn.execute(
            "SELECT (SELECT count(*) FROM mmm_decisions), (SELECT count(*) FROM mmm_actions), "
            "(SELECT count(*) FROM mmm_decisions WHERE degraded_mode)"
        ).fetchone()
    return {"decisions": decisions, "actions": actions, "degraded_decisions": degraded}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds-1", type=int, default=20, help="seconds of 1-connection runs per round")
    parser.add_argument(
        "--slices-1", type=int, default=4, help="alternating floor/decide slices those seconds are cut into"
    )
    parser.add_argument("--seconds-8", type=int, default=60, help="seconds per 8-connection run")
    parser.add_argument("--ingest-signals", type=int, default=6000)
    parser.add_argument(
        "--warm-up",
        type=int,
        default=40,
        help="seconds of decides before measuring (~9,000 at 8 connections over the decide and "
        "ingestion tenants: ~99%% of their actors seen)",
    )
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="leave the scratch folder (logs) behind")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian package wrk)", file=sys.stderr)
        return 2
    service = Service(args.server)
    one = [TENANTS[0]]
    runs: dict[str, list[dict]] = {"floor_1": [], "decide_1": [], "floor_8": [], "decide_8": []}
    try:
        service.prepare()
        service.start("web")
        service.start("worker")
        wrk(service, "/bench/floor", connections=8, seconds=5, tenants=one)  # warm-up
        # Both tenants measured below, the decide one and the ingestion one, warm alike.
        wrk(service, "/v1/mmm/decide", connections=8, seconds=args.warm_up, tenants=[*one, INGEST_TENANT])
        pair = (("floor", "/bench/floor"), ("decide", "/v1/mmm/decide"))
        slice_seconds = max(1, args.seconds_1 // args.slices_1)
        for _ in range(args.rounds):
            # 1 connection: short slices, alternately floor first and decide first, so the shared
            # machine's drifts (its speed moves by 2-3x within minutes) fall on both alike.
            order = [p for n in range(args.slices_1) for p in (pair[::-1] if n % 2 else pair)]
            runs_1 = [(1, slice_seconds, p) for p in order]
            for connections, seconds, (name, path) in [*runs_1, *((8, args.seconds_8, p) for p in pair)]:
                result = wrk(service, path, connections=connections, seconds=seconds, tenants=one)
                runs[f"{name}_{connections}"].append(result)
                rps, p50 = result["rps"], result["p50_us"] / 1000
                print(f"{name} c{connections}: {rps:.1f} req/s p50 {p50:.2f} ms")
        tenants_10 = wrk(
            service, "/v1/mmm/decide", connections=8, seconds=args.seconds_8 // 2, tenants=TENANTS
        )
        rows = written(service)
        ingestion = ingest(service, args.ingest_signals)
        print(f"ingestion: {ingestion['decided_per_second']:.1f} decided signals/s")
    finally:
        if args.keep:
            print(f"logs kept in {service.scratch}")
            service.scratch = Path(tempfile.mkdtemp())
        service.close()
    report = build_report(runs, tenants_10, ingestion, rows, args)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "decide_http.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS / "decide_http.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def build_report(runs: dict, tenants_10: dict, ingestion: dict, rows: dict, args) -> dict:
    def figures(name: str) -> dict:
        return {
            "rps": round(median(runs[name], "rps"), 1),
            "p50_ms": round(median(runs[name], "p50_us") / 1000, 2),
            "p99_ms": round(median(runs[name], "p99_us") / 1000, 2),
            "errors": sum(r["errors"] + r["status_errors"] for r in runs[name]),
            "requests": sum(r["requests"] for r in runs[name]),
        }

    cases = {name: figures(name) for name in runs}
    pg_version = ""
    with contextlib.suppress(OSError):
        pg_version = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql_client": pg_version,
        },
        "command": "python bench/decide_http.py " + " ".join(sys.argv[1:]),
        "settings": {
            "rounds": args.rounds,
            "seconds_1_connection": args.seconds_1,
            "slices_1_connection": args.slices_1,
            "seconds_8_connections": args.seconds_8,
            "decide_warm_up_seconds": args.warm_up,
            "gunicorn_workers": 4,
            "celery_worker_processes": 2,
        },
        "cases": cases,
        "ratios": {
            "throughput_8_decide_over_floor": round(cases["decide_8"]["rps"] / cases["floor_8"]["rps"], 3),
            "p50_1_decide_over_floor": round(cases["decide_1"]["p50_ms"] / cases["floor_1"]["p50_ms"], 2),
            "ingestion_over_direct_decide": round(
                ingestion["decided_per_second"] / cases["decide_8"]["rps"], 3
            ),
            # each round's own ratios: how far the shared machine moved them within the run
            "throughput_8_by_round": [
                round(decide["rps"] / floor["rps"], 3)
                for decide, floor in zip(runs["decide_8"], runs["floor_8"], strict=True)
            ],
            "p50_1_by_slice": [
                round(decide["p50_us"] / floor["p50_us"], 2)
                for decide, floor in zip(runs["decide_1"], runs["floor_1"], strict=True)
            ],
        },
        "pt_mmm_01_ten_tenants": {
            "rps": round(tenants_10["rps"], 1),
            "decisions_per_minute": round(tenants_10["rps"] * 60),
            "p50_ms": round(tenants_10["p50_us"] / 1000, 2),
            "p99_ms": round(tenants_10["p99_us"] / 1000, 2),
            "errors": tenants_10["errors"] + tenants_10["status_errors"],
        },
        "ingestion": {**ingestion, "decided_per_second": round(ingestion["decided_per_second"], 1)},
        "rows_written_by_decides": rows,
    }


def markdown(report: dict) -> str:
    cases, ratios, tenants = report["cases"], report["ratios"], report["pt_mmm_01_ten_tenants"]
    lines = [
        "# Decide over HTTP against the floor (NFR-1, NFR-2, PT-MMM-01)",
        "",
        f"Generated {report['generated_at']} by `{report['command']}` on {report['machine']['platform']}, "
        f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}.",
        "Services mode: gunicorn 4 sync workers, Celery worker 2 processes, PostgreSQL, Redis, RabbitMQ, "
        "DEBUG off. Floor: `POST /bench/floor` (JWT verify + one JSON row insert) in the same gunicorn. "
        f"Medians of {report['settings']['rounds']} interleaved rounds after "
        f"{report['settings']['decide_warm_up_seconds']} s of decides of the decide and ingestion "
        "tenants (every actor's caches warm); wrk. "
        "At 1 connection each round alternates floor and decide in "
        f"{report['settings']['slices_1_connection']} slices each; the figures are medians over all "
        f"slices. Ratios by round: throughput {ratios['throughput_8_by_round']}; by slice pair: "
        f"1-connection p50 {ratios['p50_1_by_slice']}.",
        "",
        "| case | floor | decide | ratio |",
        "|---|---|---|---|",
        f"| 1 connection, p50 | {cases['floor_1']['p50_ms']} ms | {cases['decide_1']['p50_ms']} ms | "
        f"{ratios['p50_1_decide_over_floor']}x |",
        f"| 1 connection, p99 | {cases['floor_1']['p99_ms']} ms | {cases['decide_1']['p99_ms']} ms | |",
        f"| 8 connections, throughput | {cases['floor_8']['rps']} req/s | {cases['decide_8']['rps']} req/s | "
        f"{ratios['throughput_8_decide_over_floor']}x |",
        f"| 8 connections, p50 | {cases['floor_8']['p50_ms']} ms | {cases['decide_8']['p50_ms']} ms | |",
        f"| 8 connections, p99 | {cases['floor_8']['p99_ms']} ms | {cases['decide_8']['p99_ms']} ms | |",
        f"| errors (all runs) | {cases['floor_8']['errors'] + cases['floor_1']['errors']} | "
        f"{cases['decide_8']['errors'] + cases['decide_1']['errors']} | |",
        "",
        f"Decides wrote {report['rows_written_by_decides']['decisions']} decisions and "
        f"{report['rows_written_by_decides']['actions']} actions (actions are really written); "
        f"{report['rows_written_by_decides']['degraded_decisions']} decisions were past their latency "
        "budget (NFR-1: no actions, degraded).",
        "",
        f"PT-MMM-01, 10 tenants, 8 connections: {tenants['rps']} decisions/s "
        f"({tenants['decisions_per_minute']}/min), p50 {tenants['p50_ms']} ms, p99 {tenants['p99_ms']} ms, "
        f"errors {tenants['errors']}.",
        "",
        f"Ingestion: {report['ingestion']['signals']} signals posted in batches of 50 "
        f"({report['ingestion']['post_seconds']} s), all decided by the worker after "
        f"{report['ingestion']['decided_seconds']} s: {report['ingestion']['decided_per_second']} decided "
        f"signals/s, {ratios['ingestion_over_direct_decide']}x the direct decide throughput.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
