"""Errors under normal load (issue: "nothing accepted is lost"): N connections for S seconds against a
running service, half deciding (``POST /v1/mmm/decide``, unique signal ids over 1,000 actors and 200
repositories), half posting batches of 5 signals (``POST /v1/mmm/signals``). Counts every status
and transport error; any answer >= 500 is a failure. Writes ``bench/reports/load_errors.{json,md}``.

    .venv/bin/python bench/load_errors.py --url http://127.0.0.1:8000 --token "$TOKEN" \\
        --tenant load --seconds 60 --connections 8

The token needs the ``mmm.decide`` scope for ``--tenant`` (``manage.py mint_token``). Exit status 1
when any response was >= 500 or a request failed in transport.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPORTS = Path(__file__).resolve().parent / "reports"


def _decide(client: httpx.Client, url: str, tenant: str, i: int) -> httpx.Response:
    body = {
        "tenant_id": tenant,
        "actor_id": f"dev-{i % 1000}",
        "actor_type": "human",
        "context": {"repo_id": f"org/repo-{i % 200}", "branch": "main"},
        "signal": {
            "signal_id": f"load-{uuid.uuid4()}",
            "source": "github",
            "event_type": "ci.check_run.failed",
            "severity": "high",
        },
    }
    return client.post(f"{url}/v1/mmm/decide", json=body)


def _signals(client: httpx.Client, url: str, tenant: str, i: int) -> httpx.Response:
    now = datetime.now(UTC).isoformat()
    batch = [
        {
            "signal_id": f"load-{uuid.uuid4()}",
            "tenant_id": tenant,
            "actor_id": f"dev-{(i + j) % 1000}",
            "source": "ci",
            "event_type": "ci.check_run.failed",
            "severity": "high",
            "ts": now,
            "context": {"repo_id": f"org/repo-{(i + j) % 200}"},
        }
        for j in range(5)
    ]
    return client.post(f"{url}/v1/mmm/signals", json=batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--tenant", default="load")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    counts: collections.Counter[str] = collections.Counter()
    samples: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def worker(kind: str) -> None:
        call = _decide if kind == "decide" else _signals
        with httpx.Client(headers={"Authorization": f"Bearer {args.token}"}, timeout=30) as client:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                try:
                    status = str(call(client, args.url, args.tenant, i).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    counts[f"{kind} {status}"] += 1
                    if not status.startswith(("2", "4")) and len(samples) < 10:
                        samples.append(f"{kind} {status}")

    threads = [
        threading.Thread(target=worker, args=("decide" if n % 2 == 0 else "signals",))
        for n in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failures = sum(n for key, n in counts.items() if not key.split()[1].startswith(("2", "4")))
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "connections": args.connections,
        "counts": dict(sorted(counts.items())),
        "failures": failures,
        "samples": samples,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "load_errors.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Errors under normal load",
        "",
        f"{args.connections} connections for {args.seconds:.0f} s ({report['when']}); "
        f"failures (>= 500 or transport errors): **{failures}**.",
        "",
        "| request | answers |",
        "|---|---|",
        *[f"| {key} | {n} |" for key, n in sorted(counts.items())],
        "",
        "Command: `.venv/bin/python bench/load_errors.py --url URL --token TOKEN "
        f"--seconds {args.seconds:.0f} --connections {args.connections}`",
    ]
    (REPORTS / "load_errors.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
