"""Run Django in a separate process with its own environment (settings are read at start-up)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Variables that switch running modes; a child process starts from none of them.
# A loaded CI machine must not push a decide past its NFR-1 budget and drop its actions.
GENEROUS_LATENCY_BUDGET = {
    "DECIDE_LATENCY_BUDGET_IDE_SECONDS": "60",
    "DECIDE_LATENCY_BUDGET_CI_SECONDS": "60",
}
MODE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "JWT_JWKS")

_GET_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
response = Client().get(sys.argv[1])
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def child_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Environment for a child process: no mode variables except ``overrides``; private state dir."""
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env.update({"LOCAL_STATE_DIR": str(tmp_path / "state"), "ALLOWED_HOSTS": "testserver"})
    env.update(GENEROUS_LATENCY_BUDGET)  # the suite does not measure speed (NFR-1 budgets: bench/)
    env.update(overrides)
    return env


def _python(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def django_get(path: str, env: dict[str, str], timeout: float = 60) -> tuple[int, dict]:
    """GET ``path`` through the full middleware stack in a fresh process; return (status, JSON)."""
    completed = _python(["-c", _GET_SCRIPT, path], env, timeout)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["status"], result["body"]


def manage(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``manage.py args`` in a fresh process with ``env``."""
    return _python(["manage.py", *args], env, timeout)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_urls() -> dict[str, str] | None:
    """The real services of CI, or None when this run was not given them."""
    urls = {name: os.environ.get(name, "") for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    return urls if all(urls.values()) else None
