"""Receipt ledger benchmark (issue 14): decide latency with the log on and off, and concurrent
decides through gunicorn with a Celery worker appending (``verify_receipts`` over 100,000 receipts:
``bench/ledger_verify.py``, which writes its own section of the same report).

Usage (from the project root; needs PostgreSQL and RabbitMQ, i.e. services mode):

    DATABASE_URL=postgres://.../NAME CELERY_BROKER_URL=amqp://.../VHOST REDIS_URL=redis://.../N \\
        .venv/bin/python bench/ledger.py [--rounds 6] [--runs 60] [--clients 8] [--seconds 60] \\
        [--port 18300] [--parts latency,concurrency]

Uses the scratch database ``<NAME>_bench`` (re-created). One Celery worker with beat (all queues)
runs throughout, as in production (Procfile ``worker`` and ``beat``).

1. Latency: child processes alternate "off" (``receipt_log_append_soon`` replaced by a no-op: no
   enqueue, nothing for the worker to append) and "on" (the real path: after commit, at most once
   per 2 s, a ``receipts.log_append`` task is published with a 2 s countdown and the worker appends
   while decides go on). Each child times ``decision_create`` and ``POST /v1/mmm/decide`` through
   Django's handler in-process, after warm-up calls.
2. Concurrency: gunicorn on ``--port``; ``--clients`` threads, each on its own connection, post
   decides for ``--seconds``; then, once the log has caught up, every receipt must have exactly
   one leaf, indexes 0..n-1, and ``log_audit`` must pass. The append lag is sampled every second.

``_seed_verify`` (signed copies of a real decision receipt, appended) serves ``ledger_verify.py``.

Writes ``bench/reports/ledger.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "bench" / "reports"
TENANT, CONCURRENT_TENANT, VERIFY_TENANT = "bench-ledger", "bench-ledger-http", "bench-ledger-verify"
WARM_UP = 20
VENV_BIN = Path(sys.executable).parent


def _request(tenant_id: str, signal_id: str) -> dict:
    return {
        "tenant_id": tenant_id,
        "context": {"repo_id": "org/app", "branch": "main"},
        "signal": {
            "signal_id": signal_id,
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }


def _prepare_database() -> str:
    import psycopg

    url = os.environ["DATABASE_URL"]
    base, _, name = url.rpartition("/")
    scratch = f"{name}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = f"{base}/{scratch}"
    return f"PostgreSQL ({scratch})"


def _seed(tenant_id: str) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import tracing_overhead

    tracing_overhead.TENANT = tenant_id
    tracing_overhead._seed()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 3),
        "samples": len(ordered),
    }


def child(mode: str, tag: str, runs: int) -> dict:
    """Time decides in this process with the log ``mode`` ("on"/"off"); samples in ms."""
    import django

    django.setup()
    from django.test import Client

    import receipts.services
    from decisions.services.decide import decision_create
    from mmm_project.auth.principal import Principal
    from mmm_project.auth.tokens import mint_token

    if mode == "off":
        receipts.services.receipt_log_append_soon = lambda **kwargs: None
    principal = Principal(actor_id="bench-actor", tenant_id=TENANT, scopes=frozenset({"mmm.decide"}))
    token = mint_token(tenant_id=TENANT, actor_id="bench-actor", scopes=["mmm.decide"])
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    samples: dict[str, list[float]] = {"direct": [], "http": []}
    for i in range(runs + WARM_UP):
        started = time.perf_counter()
        decision_create(principal=principal, data=_request(TENANT, f"{tag}-d-{i}"))
        direct = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        response = client.post(
            "/v1/mmm/decide", _request(TENANT, f"{tag}-h-{i}"), content_type="application/json"
        )
        http_ms = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content
        if i >= WARM_UP:
            samples["direct"].append(direct)
            samples["http"].append(http_ms)
    return samples


def _latency(rounds: int, runs: int) -> dict:
    collected: dict[str, dict[str, list[float]]] = {m: {"direct": [], "http": []} for m in ("off", "on")}
    pairs = []
    for round_ in range(rounds):
        pair = {}
        for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            done = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--tag", f"{mode}{round_}", "--runs", str(runs)],
                capture_output=True,
                text=True,
                check=True,
                timeout=900,
            )
            samples = json.loads(done.stdout.strip().splitlines()[-1])
            for kind in samples:
                collected[mode][kind] += samples[kind]
            pair[mode] = round(statistics.median(samples["direct"]), 3)
        pairs.append(pair)
        print(f"latency round {round_ + 1}/{rounds}: decision_create p50 ms {pair}", flush=True)
    results = {
        mode: {kind: _percentiles(v) for kind, v in kinds.items()} for mode, kinds in collected.items()
    }
    ratios = {
        kind: round(results["on"][kind]["p50_ms"] / results["off"][kind]["p50_ms"], 3)
        for kind in ("direct", "http")
    }
    return {"results": results, "p50_ratio_on_to_off": ratios, "rounds_p50_direct": pairs}


def _decide_path() -> dict:
    """What the ledger adds to each decide, timed alone (free of the machine's noise): the leaf
    hash made with the signature, and ``receipt_log_append_soon`` inside and outside its window."""
    from django.db import transaction

    from receipts.ledger import services
    from receipts.ledger.hashing import leaf_hash

    body, count = os.urandom(1514), 100_000

    def per_call_us(call) -> float:
        started = time.perf_counter()
        for _ in range(count):
            call()
        return round((time.perf_counter() - started) * 1e6 / count, 3)

    hash_us = per_call_us(lambda: leaf_hash(body))
    services._next_enqueue["bench-window"] = time.monotonic() + 3600  # within the 2 s window
    in_window_us = per_call_us(lambda: services.receipt_log_append_soon(tenant_id="bench-window"))
    with transaction.atomic():  # the once-per-window call registers its after-commit enqueue
        started = time.perf_counter()
        for n in range(1000):
            services.receipt_log_append_soon(tenant_id=f"bench-{n}")
        first_us = round((time.perf_counter() - started) * 1e6 / 1000, 3)
        transaction.set_rollback(True)  # nothing is published
    return {
        "leaf_hash_us": hash_us,
        "append_soon_in_window_us": in_window_us,
        "append_soon_first_us": first_us,
    }


def _unlogged(tenant_id: str) -> tuple[int, float]:
    from django.db.models import Count, Min
    from django.utils import timezone

    from receipts.models import Receipt

    row = Receipt.objects.filter(tenant_id=tenant_id, leaf_index__isnull=True).aggregate(
        n=Count("pk"), at=Min("created_at")
    )
    return row["n"], (timezone.now() - row["at"]).total_seconds() if row["at"] else 0.0


def _free_port(first: int) -> int:
    """The first port from ``first`` (within the next 100) that nothing listens on."""
    import socket

    for port in range(first, first + 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {first}-{first + 99}")


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/v1/mmm/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False


def _concurrency(clients: int, seconds: int, port: int, env: dict) -> dict:
    from django.db import connection

    from mmm_project.auth.tokens import mint_token
    from receipts.ledger.audit import log_audit
    from receipts.models import Receipt

    _seed(CONCURRENT_TENANT)
    port = _free_port(port)
    web = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "mmm_project.wsgi", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "3"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            if _healthy(port):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn did not answer on port {port}")
        token = mint_token(tenant_id=CONCURRENT_TENANT, actor_id="bench-actor", scopes=["mmm.decide"])
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        stop = time.monotonic() + seconds
        counts = {"ok": 0, "failed": 0}
        statuses: dict[str, int] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        lags: list[float] = []

        def post(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = 0
            while time.monotonic() < stop:
                body = json.dumps(_request(CONCURRENT_TENANT, f"c{n}-{i}-{uuid.uuid4().hex[:6]}"))
                started = time.perf_counter()
                try:
                    conn.request("POST", "/v1/mmm/decide", body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = str(response.status)
                except (OSError, http.client.HTTPException) as exc:
                    status = type(exc).__name__
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    counts["ok" if status == "200" else "failed"] += 1
                    statuses[status] = statuses.get(status, 0) + 1
                    latencies.append((time.perf_counter() - started) * 1000)
                i += 1

        threads = [threading.Thread(target=post, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            lags.append(_unlogged(CONCURRENT_TENANT)[1])
            time.sleep(1)
        caught_up_after = None
        finished = time.monotonic()
        while time.monotonic() - finished < 120:
            waiting, _ = _unlogged(CONCURRENT_TENANT)
            if waiting == 0:
                caught_up_after = round(time.monotonic() - finished, 1)
                break
            time.sleep(0.5)
    finally:
        web.terminate()
        web.wait(timeout=30)
    receipts = Receipt.objects.filter(tenant_id=CONCURRENT_TENANT)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(leaf_index), count(DISTINCT leaf_index), min(leaf_index), "
            "max(leaf_index) FROM mmm_receipts WHERE tenant_id = %s",
            [CONCURRENT_TENANT],
        )
        total, with_leaf, distinct, lowest, highest = cursor.fetchone()
    audit = log_audit(tenant_id=CONCURRENT_TENANT)
    return {
        "clients": clients,
        "seconds": seconds,
        "decides_ok": counts["ok"],
        "decides_failed": counts["failed"],
        "answers": statuses,
        "decides_per_second": round(counts["ok"] / seconds, 1),
        "client_latency": _percentiles(latencies),
        "receipts": total,
        "receipts_with_leaf": with_leaf,
        "distinct_leaf_indexes": distinct,
        "leaf_index_range": [lowest, highest],
        "no_gaps_no_duplicates": total == with_leaf == distinct and lowest == 0 and highest == total - 1,
        "audit_ok": audit.ok and audit.receipts == receipts.count(),
        "append_lag_seconds_max_during_run": round(max(lags, default=0.0), 1),
        "append_lag_seconds_median_during_run": round(statistics.median(lags), 1) if lags else 0.0,
        "caught_up_seconds_after_last_decide": caught_up_after,
    }


def _seed_verify(count: int) -> dict:
    """``count`` signed copies of a real decision receipt for VERIFY_TENANT, appended to its log."""
    import copy
    from datetime import timedelta

    from django.utils import timezone

    from receipts.ledger.hashing import leaf_hash
    from receipts.ledger.services import receipt_log_append
    from receipts.models import Receipt
    from receipts.signing import sign_canonical

    template = (
        Receipt.objects.filter(tenant_id=TENANT, kind="decision").order_by("created_at").first().payload
    )
    started, now = time.monotonic(), timezone.now()
    batch: list[Receipt] = []
    for i in range(count):
        body = copy.deepcopy(template)
        body.update(receipt_id=str(uuid.uuid4()), decision_id=str(uuid.uuid4()), tenant_id=VERIFY_TENANT)
        signature, kid, signed = sign_canonical(body)
        at = now + timedelta(microseconds=i)
        batch.append(
            Receipt(
                receipt_id=body["receipt_id"],
                tenant_id=VERIFY_TENANT,
                kind="decision",
                decision_id=body["decision_id"],
                payload=body,
                signature=signature,
                kid=kid,
                leaf_hash=leaf_hash(signed),
                status="local",
                created_at=at,
                updated_at=at,
            )
        )
        if len(batch) == 5000:
            Receipt.objects.bulk_create(batch)
            batch = []
    Receipt.objects.bulk_create(batch)
    stored = time.monotonic()
    while receipt_log_append(tenant_id=VERIFY_TENANT, limit=5000):
        pass
    appended = time.monotonic()
    return {
        "receipts": count,
        "receipt_bytes": len(json.dumps(template)),
        "sign_and_store_seconds": round(stored - started, 1),
        "append_seconds": round(appended - stored, 1),
        "append_ms_per_receipt": round((appended - stored) * 1000 / count, 3),
    }


def _start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "mmm_project",
            "--quiet",
            "worker",
            "-B",
            "--concurrency",
            "1",
            "--queues",
            "default,maintenance,receipts,ingest,llm,delivery",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(Path(env["LOCAL_STATE_DIR"]) / "celerybeat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _write(report: dict) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "ledger.json").write_text(json.dumps(report, indent=2) + "\n")
    lat, conc, ver = report.get("latency"), report.get("concurrency"), report.get("verify")
    parts = [
        f"# Receipt ledger (issue 14)\n\n`{report['command']}` on {report['database']}, Python "
        f"{report['python']}, {report['machine']}; a Celery worker (1 process, with beat) throughout. "
        f"Load average at start: {report.get('load_average_at_start')} (other test suites share the "
        "machine).\n"
    ]
    if lat:
        r = lat["results"]
        rows = "\n".join(
            f"| {label} | {r['off'][k]['p50_ms']} | {r['on'][k]['p50_ms']} | {r['off'][k]['p95_ms']} | "
            f"{r['on'][k]['p95_ms']} | **{lat['p50_ratio_on_to_off'][k]}** |"
            for k, label in (("direct", "`decision_create`"), ("http", "`POST /v1/mmm/decide` (in-process)"))
        )
        parts.append(
            "## Decide latency, log off and on\n\nOff: no enqueue (the worker has nothing to append). "
            "On: the real path, the worker appending alongside. Alternating child processes; "
            f"wall clock, ms. Load average when it started: {lat.get('load_average_at_start')}.\n\n"
            "| decide | off p50 | on p50 | off p95 | on p95 | p50 ratio on/off |\n|---|---|---|---|---|---|\n"
            f"{rows}\n\nPer round (`decision_create` p50 off / on): "
            + ", ".join(f"{p['off']} / {p['on']}" for p in lat["rounds_p50_direct"])
            + ".\n"
        )
    if conc:
        parts.append(
            f"## Concurrent decides\n\n{conc['clients']} connections for {conc['seconds']} s through "
            f"gunicorn (3 workers): {conc['decides_ok']} decides ({conc['decides_per_second']}/s), "
            f"{conc['decides_failed']} failed; client p50 {conc['client_latency']['p50_ms']} ms, "
            f"p95 {conc['client_latency']['p95_ms']} ms; answers {conc.get('answers')}. Load average when it "
            f"started: {conc.get('load_average_at_start')}.\n\n"
            f"- receipts {conc['receipts']}, with a leaf {conc['receipts_with_leaf']}, distinct leaf indexes "
            f"{conc['distinct_leaf_indexes']}, range {conc['leaf_index_range']}: **no gaps, no duplicates: "
            f"{conc['no_gaps_no_duplicates']}**; `log_audit` passes: **{conc['audit_ok']}**\n"
            f"- append lag during the run (oldest receipt not in the log, sampled each second): median "
            f"{conc['append_lag_seconds_median_during_run']} s, "
            f"max {conc['append_lag_seconds_max_during_run']} s; "
            f"caught up {conc['caught_up_seconds_after_last_decide']} s after the last decide\n"
        )
    if ver:
        import ledger_verify_report

        parts.append(ledger_verify_report.markdown(ver, ver.get("command", "python bench/ledger_verify.py")))
    path = report.get("decide_path")
    if path:
        parts.append(
            "## The ledger's work on the decide path, timed alone\n\n"
            f"- leaf hash of a 1,514-byte signed body (made with the signature): {path['leaf_hash_us']} µs\n"
            f"- `receipt_log_append_soon` within its 2 s window (almost every receipt): "
            f"{path['append_soon_in_window_us']} µs\n"
            "- its first call in a window (registers the after-commit enqueue): "
            f"{path['append_soon_first_us']} µs,"
            " then one publish to the broker after commit, once per 2 s per process and tenant\n"
        )
    (REPORTS / "ledger.md").write_text("\n".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--parts", default="latency,concurrency")
    parser.add_argument("--child", choices=("off", "on"), help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    if args.child:
        print(json.dumps(child(args.child, args.tag, args.runs)))
        return 0
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("amqp") or "postgres" not in os.environ.get(
        "DATABASE_URL", ""
    ):
        sys.exit("bench/ledger.py needs DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (RabbitMQ)")
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        del os.environ[name]
    database = _prepare_database()
    state = ROOT / "var" / "bench-ledger"
    state.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LOCAL_STATE_DIR", str(state))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(state / "prometheus")
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    _seed(TENANT)
    parts = set(args.parts.split(","))
    report: dict = {
        "benchmark": "receipt ledger (issue 14)",
        "command": f"python bench/ledger.py --rounds {args.rounds} --runs {args.runs} "
        f"--clients {args.clients} --seconds {args.seconds}",
        "database": database,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    previous = REPORTS / "ledger.json"
    if previous.exists():
        last = json.loads(previous.read_text())
        if parts != {"latency", "concurrency"}:  # a partial run keeps the last report's other parts
            command = f"{last['command']}; then {report['command']} --parts {args.parts}"
            report = {**last, **report, "command": command}
        elif "verify" in last:  # written by bench/ledger_verify.py
            report["verify"] = last["verify"]
    report["decide_path"] = _decide_path()
    worker = _start_worker(env)
    try:
        if "latency" in parts:
            report["latency"] = {
                **_latency(args.rounds, args.runs),
                "load_average_at_start": report["load_average_at_start"],
            }
            _write(report)
        if "concurrency" in parts:
            report["concurrency"] = _concurrency(args.clients, args.seconds, args.port, env)
            report["concurrency"]["load_average_at_start"] = report["load_average_at_start"]
            print(json.dumps(report["concurrency"]), flush=True)
            _write(report)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    _write(report)
    return 0


def _child_decides() -> None:
    """A few real decides so that a decision receipt exists to copy."""
    subprocess.run(
        [sys.executable, __file__, "--child", "on", "--tag", "seed", "--runs", "1"],
        check=True,
        capture_output=True,
        timeout=300,
    )


if __name__ == "__main__":
    sys.exit(main())
