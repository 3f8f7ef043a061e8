"""Private PostgreSQL and Redis instances for the fault suite (ports 18300-18399, scratch /tmp/faults-*).

The shared services (PostgreSQL 5432, Redis 6379, RabbitMQ 5672) are never touched: every fault is
injected into an instance started here, which can be killed and started again on the same port.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg

PORTS = range(18300, 18400)
_handed_out: set[int] = set()
T = TypeVar("T")


def free_port() -> int:
    """A port of 18300-18399 nothing listens on and this run has not handed out yet."""
    for port in PORTS:
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port in 18300-18399")


def scratch_dir(name: str) -> Path:
    """A new folder /tmp/faults-<name>-XXXX that any local user (PostgreSQL's) may enter."""
    path = Path(tempfile.mkdtemp(prefix=f"faults-{name}-", dir="/tmp"))
    path.chmod(0o755)
    return path


def wait_for(predicate: Callable[[], T], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries folder, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb in a scratch folder, trust auth, fsync off)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = scratch_dir("pg")
        self.data = self.root / "data"
        self.port = free_port()
        # initdb and postgres refuse to run as root: run them as the postgres user then.
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user:
            shutil.chown(self.root, user=self._user)
        self._run(["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N"])

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self._user,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        log = str(self.root / "postgres.log")
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect every client at once, as a restart does)."""
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"], check=False)

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create ``name`` (a copy of ``template`` when given); return its URL."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A throwaway Redis server (no persistence) that can be SIGKILLed and started on the same port."""

    def __init__(self, name: str) -> None:
        self.root = scratch_dir(f"redis-{name}")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.root)]
        log = (self.root / "redis.log").open("a")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_for(lambda: port_open(self.port), timeout=30, what=f"redis on {self.port}")

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-traffic, as a crashed host would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        wait_for(lambda: not port_open(self.port), timeout=10, what=f"redis on {self.port} to go")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def query(conn: psycopg.Connection, sql: str, *params: Any) -> list[tuple]:
    """Rows of ``sql`` (the fault tests read the private database directly, never through Django)."""
    return conn.execute(sql, params).fetchall()
