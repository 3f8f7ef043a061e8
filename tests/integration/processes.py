"""Service processes started as an operator would (gunicorn, celery worker and beat, the intake
command), with their output captured line by line for the test to read."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port(first: int = 18500, last: int = 18599) -> int:
    """A loopback port in [first, last] nothing listens on (the range this suite opens ports in)."""
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def current_database_url() -> str:
    """The URL of the database this test runs against (its test_ copy), for child processes."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Service:
    """A child process whose stdout and stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        for stream, sink in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            self._lines.put(line)

    def wait_for(self, found: Callable[[str], bool], timeout: float = 60) -> None:
        """Return once an output line satisfies ``found``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        if any(found(line) for line in self.stdout + self.stderr):
            return
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if found(self._lines.get(timeout=0.5)):
                    return
            except queue.Empty:
                continue
        raise AssertionError(f"not seen in the output: {self.output()[-4000:]}")

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM (what honcho and systemd send), then wait for the process and its output."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        time.sleep(0.2)  # let the reader threads drain the pipes

    def output(self) -> str:
        return "\n".join([*self.stdout, "--- stderr ---", *self.stderr])

    def json_lines(self) -> list[dict[str, Any]]:
        """Every line of stdout and stderr parsed as JSON (a line that is not fails the test)."""
        parsed = []
        for line in self.stdout + self.stderr:
            try:
                parsed.append(json.loads(line))
            except ValueError as exc:
                raise AssertionError(f"not a JSON line: {line!r}\n{self.output()[-3000:]}") from exc
        return parsed


def gunicorn(env: dict[str, str], port: int) -> Service:
    return Service(
        [str(BIN / "gunicorn"), "mmm_project.wsgi", "--config", "gunicorn.conf.py"],
        {**env, "PORT": str(port)},
    )


def celery(env: dict[str, str], *args: str) -> Service:
    return Service([sys.executable, "-m", "celery", "-A", "mmm_project", "--quiet", *args], env)


def manage(env: dict[str, str], *args: str) -> Service:
    return Service([sys.executable, "manage.py", *args], env)


def service_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Services mode on this run's database (its test_ copy), Redis and private broker vhost, with
    its own state folder and metrics folder."""
    from tests.integration.helpers import child_env, service_urls

    urls = service_urls() or {}
    (tmp_path / "state").mkdir(exist_ok=True)
    return child_env(
        tmp_path,
        **{
            **urls,
            "DATABASE_URL": current_database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            **overrides,
        },
    )
