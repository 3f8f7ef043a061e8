"""``manage.py verify_receipts --tenant T`` over 100,000 receipts (issue 14: <= 10 s on this machine),
timed as a whole process beside its floors, in the same run, and broken down in-process.

Usage (from the project root; PostgreSQL, and RabbitMQ for the one decide that makes the template):

    DATABASE_URL=postgres://.../NAME CELERY_BROKER_URL=amqp://.../VHOST REDIS_URL=redis://.../N \\
        .venv/bin/python bench/ledger_verify.py [--receipts 100000] [--rounds 3] [--reuse] \\
        [--baseline-rev REV]

Uses the scratch database ``<NAME>_bench`` (``--reuse`` keeps it when it already holds the
receipts, else it is re-created and seeded: copies of a real decision receipt, each with its own
ids and signature, appended to the tenant's log; then ``ANALYZE``). Each round, in alternating
order (the machine is shared: every figure of a round meets the same load):

- ``startup``: ``manage.py verify_receipts --tenant <a tenant with no receipts>``: Django's start-up,
  the command's fixed cost;
- ``select``: a bare streaming ``SELECT`` of the columns the check reads, for the same rows, with
  psycopg alone (no Django): reading them, PostgreSQL's ``jsonb`` to text included;
- ``verify (workers auto)`` and ``verify (workers 1)``: the real command;
- ``verify at REV`` (``--baseline-rev``): the same command from that commit's code (``git archive``).

Then one child breaks ``log_audit`` down in-process: Django set-up, reading the log (heads and
leaves), reading the rows, decoding the bodies and making the signed bytes, the Ed25519 checks, the
leaf hashes, the comparison; and ``log_audit`` itself with 1 and with the default workers.
Writes the ``verify`` part of ``bench/reports/ledger.json`` and re-renders ``ledger.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import ledger  # noqa: E402  (bench/ledger.py: scratch database, seeding, the report)
import machine  # noqa: E402  (bench/machine.py: load, idle share, a backend's CPU)

EMPTY_TENANT = "bench-ledger-none"
SEED_FILE = ROOT / "var" / "bench-ledger" / "verify-seed.json"  # what seeded the scratch database


def _timed(command: list[str], cwd: Path, env: dict) -> dict:
    load, cpu, ticks = machine.load(), resource.getrusage(resource.RUSAGE_CHILDREN), machine.cpu_times()
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - started
    idle = machine.idle_percent(ticks, machine.cpu_times())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.strip().splitlines()
    try:
        detail = json.loads(lines[-1]) if lines else None
    except ValueError:
        detail = None
    return {
        "detail": detail,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2),
        "exit_code": done.returncode,
        "load_average_before": load,
        "machine_idle_percent_during": idle,  # what this command left unused, of both CPUs
        "progress_lines": sum(1 for line in lines if "receipts checked (" in line),
        "summary": lines[-1] if lines else done.stderr.strip()[-300:],
    }


def _command(tenant: str, workers: int | None) -> list[str]:
    command = [sys.executable, "manage.py", "verify_receipts", "--tenant", tenant]
    return command + (["--workers", str(workers)] if workers else [])


SELECT = (
    "SELECT leaf_index, receipt_id::text, kind, kid, payload::text, signature, redacted_at "
    "FROM mmm_receipts WHERE tenant_id = %s ORDER BY leaf_index"
)


def child_select(tenant: str) -> dict:
    """The rows ``verify_receipts`` reads, streamed by psycopg alone (a server-side cursor)."""
    import psycopg

    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor(name="bench") as cursor:
        backend = machine.backend_cpu(conn.info.backend_pid)
        cursor.itersize = 2000
        cursor.execute(SELECT, [tenant])
        for _ in cursor:
            rows += 1
        backend = machine.backend_cpu(conn.info.backend_pid) - backend
    return {
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "postgres_cpu_seconds": round(backend, 3),
    }


def child_breakdown(tenant: str) -> dict:
    """``log_audit``'s parts, timed one after another in this process (seconds)."""
    started = time.perf_counter()
    import django

    django.setup()
    import orjson
    from django.db import connection, transaction

    from receipts.ledger import audit
    from receipts.ledger.hashing import leaf_hash
    from receipts.ledger.signed_bytes import fast_form, signature_valid
    from receipts.models import ReceiptKey
    from receipts.signing import b64url_decode

    out: dict = {"django_setup": time.perf_counter() - started}
    cpu: dict = {"django_setup": time.process_time()}
    marks = [time.process_time()]

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        out[name] = now - since
        marks.append(time.process_time())
        cpu[name] = marks[-1] - marks[-2]
        return now

    t = time.perf_counter()
    keys = {kid: b64url_decode(key) for kid, key in ReceiptKey.objects.values_list("kid", "public_key")}
    size = audit.log_size(tenant_id=tenant)
    probe = audit.LogAudit(tenant_id=tenant, log_size=size)
    leaves = audit._leaves(tenant, audit._heads(tenant, keys, probe), probe)
    t = lap("read_log_heads_and_leaves", t)
    rows = []
    backend = machine.backend_cpu(connection.connection.info.backend_pid)
    for bounds in audit._chunks(size):
        query = audit.receipt_rows(tenant, bounds)
        with transaction.atomic(using=query.db):
            rows.extend(query.iterator(chunk_size=2000))
    cpu["postgres_for_receipt_rows"] = machine.backend_cpu(connection.connection.info.backend_pid) - backend
    t = lap("read_receipt_rows", t)
    signed = [fast_form(orjson.loads(row[4])) for row in rows]
    t = lap("decode_and_signed_bytes", t)
    pairs = zip(rows, signed, strict=True)
    valid = sum(signature_valid(keys.get(row[3]), data, row[5]) for row, data in pairs)
    t = lap("ed25519_checks", t)
    hashed = [leaf_hash(data) for data in signed]
    t = lap("leaf_hashes", t)
    checked = [(r[0], r[1], r[2], r[3], h, "valid") for r, h in zip(rows, hashed, strict=True)]
    audit._compare(leaves, checked, probe)
    lap("compare", t)
    for workers in (1, None):
        t = time.perf_counter()
        result = audit.log_audit(tenant_id=tenant, workers=workers)
        out[f"log_audit_workers_{workers or 'auto'}"] = time.perf_counter() - t
        assert result.ok and result.receipts == len(rows), (result.invalid[:3], result.findings[:3])
    out = {name: round(value, 3) for name, value in out.items()}
    out["cpu_seconds"] = {name: round(value, 3) for name, value in cpu.items()}
    workers_auto = min(audit.MAX_WORKERS, os.cpu_count() or 1)
    out.update(receipts=len(rows), valid_signatures=valid, workers_auto=workers_auto)
    out["per_receipt_us"] = {
        name: round(out[name] * 1e6 / max(1, len(rows)), 2)
        for name in ("read_receipt_rows", "decode_and_signed_bytes", "ed25519_checks", "leaf_hashes")
    }
    return out


def _child(mode: str, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ensure_receipts(count: int, reuse: bool) -> dict | None:
    """Seed ``count`` receipts unless ``reuse`` finds them already; returns the seed figures."""
    import psycopg

    base, _, name = os.environ["DATABASE_URL"].rpartition("/")
    if reuse:
        try:
            with psycopg.connect(f"{base}/{name}_bench") as conn:
                have = conn.execute(
                    "SELECT count(leaf_index) FROM mmm_receipts WHERE tenant_id = %s", [ledger.VERIFY_TENANT]
                ).fetchone()[0]
        except psycopg.Error:
            have = 0
        if have == count:
            os.environ["DATABASE_URL"] = f"{base}/{name}_bench"
            import django

            django.setup()
            return json.loads(SEED_FILE.read_text()) if SEED_FILE.exists() else None
    ledger._prepare_database()
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    ledger._seed(ledger.TENANT)
    ledger._child_decides()
    seed = ledger._seed_verify(count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after such a load
    SEED_FILE.write_text(json.dumps(seed))
    return seed


def run(*, receipts: int, rounds: int, reuse: bool, baseline_rev: str | None, idle_wait: float = 0) -> dict:
    """Seed (or reuse), time every variant ``rounds`` times alternating (each round after waiting
    up to ``idle_wait`` s for the machine to be half idle), then the breakdown."""
    seed = _ensure_receipts(receipts, reuse)
    env = {**os.environ, "LOG_LEVEL": "ERROR"}
    variants: dict[str, tuple[list[str], Path]] = {
        "startup": (_command(EMPTY_TENANT, None), ROOT),
        "select": ([sys.executable, __file__, "--child", "select"], ROOT),
        "verify (workers auto)": (_command(ledger.VERIFY_TENANT, None), ROOT),
        "verify (workers 1)": (_command(ledger.VERIFY_TENANT, 1), ROOT),
    }
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as scratch:
        if baseline_rev:
            tree = Path(scratch) / "tree"
            tree.mkdir()
            git = ["git", "archive", baseline_rev]
            archive = subprocess.run(git, cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
            command = _command(ledger.VERIFY_TENANT, None)
            variants[f"verify at {baseline_rev} (workers auto)"] = (command, tree)
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for round_ in range(rounds):
            names = list(variants) if round_ % 2 == 0 else list(reversed(variants))
            if idle_wait:
                print(f"round {round_ + 1}: {machine.wait_for_idle(idle_wait)} % idle", flush=True)
            for name in names:
                command, cwd = variants[name]
                result = _timed(command, cwd, env)
                runs[name].append(result)
                load = result["load_average_before"]
                print(f"round {round_ + 1}/{rounds} {name}: {result['seconds']} s, load {load}", flush=True)
    breakdown = _child("breakdown", env)
    summary = {
        name: {
            "median_seconds": round(statistics.median(r["seconds"] for r in results), 2),
            "min_seconds": min(r["seconds"] for r in results),
            "max_seconds": max(r["seconds"] for r in results),
        }
        for name, results in runs.items()
    }
    per_receipt = breakdown["cpu_seconds"]
    work = sum(
        per_receipt[name]
        for name in (
            "postgres_for_receipt_rows",
            "read_receipt_rows",
            "decode_and_signed_bytes",
            "ed25519_checks",
            "leaf_hashes",
        )
    )
    floor = {
        "startup_seconds": summary["startup"]["median_seconds"],
        "work_cpu_seconds": round(work, 2),
        "workers": breakdown["workers_auto"],
        "seconds": round(summary["startup"]["median_seconds"] + work / breakdown["workers_auto"], 2),
    }
    return {
        "receipts": receipts,
        "target_seconds": 10,
        "floor": floor,
        "seed": seed,
        "rounds": rounds,
        "runs": runs,
        "summary": summary,
        "breakdown": breakdown,
        "load_average_after": machine.load(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the scratch database if already seeded")
    parser.add_argument("--baseline-rev", help="also time verify_receipts from this commit's code")
    parser.add_argument(
        "--idle-wait", type=float, default=0, help="seconds to wait for a half-idle machine before a round"
    )
    parser.add_argument("--child", choices=("select", "breakdown"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    if args.child == "select":
        print(json.dumps(child_select(ledger.VERIFY_TENANT)))
        return 0
    if args.child == "breakdown":
        print(json.dumps(child_breakdown(ledger.VERIFY_TENANT)))
        return 0
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("bench/ledger_verify.py needs DATABASE_URL (PostgreSQL)")
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        del os.environ[name]
    state = ROOT / "var" / "bench-ledger"
    (state / "prometheus").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LOCAL_STATE_DIR", str(state))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(state / "prometheus")
    verify = run(
        receipts=args.receipts,
        rounds=args.rounds,
        reuse=args.reuse,
        baseline_rev=args.baseline_rev,
        idle_wait=args.idle_wait,
    )
    previous = ledger.REPORTS / "ledger.json"
    report = json.loads(previous.read_text()) if previous.exists() else {}
    if verify["seed"] is None:  # reused: the seeding figures are the last seeding's
        verify["seed"] = report.get("verify", {}).get("seed")
    verify["command"] = (
        f"python bench/ledger_verify.py --receipts {args.receipts} --rounds {args.rounds}"
        + (" --reuse" if args.reuse else "")
        + (f" --baseline-rev {args.baseline_rev}" if args.baseline_rev else "")
        + (f" --idle-wait {args.idle_wait:g}" if args.idle_wait else "")
    )
    report["verify"] = verify
    ledger._write(report)
    print(json.dumps(verify["summary"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
