"""The service as production runs it (the Procfile's web, worker and beat) against private instances.

Each scenario gets its own database (a copy of a migrated template), flushed private Redis servers
(cache and Celery broker: the broker is a private Redis, so no queue is shared with anything else),
production settings (``DEBUG=false``, every secret set, tokens verified against ``JWT_JWKS``) and
time-compressed sweeps, backoffs and breakers given through the environment.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import redis
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.faults.instances import PrivatePostgres, PrivateRedis, free_port, port_open, scratch_dir, wait_for
from tests.integration.helpers import ROOT, child_env

BIN = Path(sys.executable).parent
KID = "faults-iam"
# Seconds; production values divided by about 60 (sweeps every minute -> every second).
COMPRESSED = {
    "RECEIPT_SWEEP_INTERVAL_SECONDS": "1",
    "RECEIPT_SWEEP_AGE_SECONDS": "1",
    "INGEST_SWEEP_INTERVAL_SECONDS": "1",
    "INGEST_SWEEP_AGE_SECONDS": "2",
    "DELIVERY_SWEEP_INTERVAL_SECONDS": "1",
    "DELIVERY_SWEEP_AGE_SECONDS": "1",
    "OUTBOX_BACKOFF_BASE_SECONDS": "0.5",
    "OUTBOX_BACKOFF_MAX_SECONDS": "4",
    "PEER_BREAKER_RESET_SECONDS": "2",
    "CELERY_TASK_SOFT_TIME_LIMIT": "8",
    "CELERY_TASK_TIME_LIMIT": "10",
    "INGEST_CLAIM_TIMEOUT_SECONDS": "12",
}


def procfile_command(name: str) -> list[str]:
    """The Procfile's command for process ``name``, with this virtualenv (beat keeps its schedule
    under the process's ``LOCAL_STATE_DIR``)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            args = shlex.split(line.split(":", 1)[1])
            args[0] = str(BIN / Path(args[0]).name)
            return args
    raise LookupError(f"no {name} process in the Procfile")


class Identity:
    """The IAM's signing key: its public half is the service's ``JWT_JWKS``; tokens are minted here."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = json.dumps({"keys": [{**public, "kid": KID, "alg": "EdDSA", "use": "sig"}]})

    def token(self, *, tenant_id: str, actor_id: str, roles: tuple[str, ...] = (), actor_type="human") -> str:
        claims = {
            "sub": actor_id,
            "tenant_id": tenant_id,
            "actor_type": actor_type,
            "roles": list(roles),
            "scope": "mmm.decide mmm.read mmm.outcome",
            "exp": int(time.time()) + 3600,
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": KID})


class Stack:
    """One scenario's service: its database, environment, processes and an HTTP client."""

    def __init__(
        self, name: str, pg: PrivatePostgres, cache: PrivateRedis, broker: PrivateRedis, env: dict[str, str]
    ) -> None:
        self.name = name
        self.pg, self.cache, self.broker = pg, cache, broker
        self.scratch = scratch_dir(name)
        self.db_name = f"mmm_{name}"
        self.identity = Identity()
        self.port = free_port()
        for server in (cache, broker):
            redis.Redis(port=server.port).flushall()
        db_url = pg.create_database(self.db_name, template="mmm_template")
        self.env = child_env(
            self.scratch,
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            JWT_JWKS=self.identity.jwks,
            RECEIPT_SIGNING_KEY=base64.b64encode(os.urandom(32)).decode(),
            WEBHOOK_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=db_url,
            REDIS_URL=cache.url(0),
            CELERY_BROKER_URL=broker.url(0),
            CELERY_TASK_ALWAYS_EAGER="false",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS="2",
            # gunicorn's control socket would otherwise be one path per user, shared by instances.
            GUNICORN_CMD_ARGS=f"--control-socket {self.scratch / 'gunicorn.ctl'}",
            PROMETHEUS_MULTIPROC_DIR=str(self.scratch / "prometheus"),
            LOG_LEVEL="INFO",  # the worker says "ready." at INFO (JSON logs follow LOG_LEVEL)
            **COMPRESSED,
        )
        self.env.update(env)
        self.processes: dict[str, subprocess.Popen] = {}
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=15)

    # --- processes -----------------------------------------------------------------------------
    def start(self, name: str) -> None:
        """Start the Procfile's ``web``, ``worker`` or ``beat`` process (its own process group)."""
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
            wait_for(lambda: self._answers(), timeout=60, what=f"gunicorn on {self.port} ({self.log('web')})")
        if name == "worker":
            wait_for(lambda: "ready." in self.log("worker"), timeout=60, what="the Celery worker to be ready")

    def _answers(self) -> bool:
        self._alive("web")
        if not port_open(self.port):
            return False
        with contextlib.suppress(httpx.HTTPError):
            return self.http.get("/v1/mmm/health").status_code == 200
        return False

    def _alive(self, name: str) -> None:
        code = self.processes[name].poll()
        assert code is None, f"{name} exited with {code}: {self.log(name)[-3000:]}"

    def wait_for(self, predicate, *, timeout: float, what: str):
        """``wait_for`` that fails at once, with the log, when one of the stack's processes died
        (a fault the test did not inject, e.g. a signal from outside)."""

        def check():
            for name in self.processes:
                self._alive(name)
            return predicate()

        return wait_for(check, timeout=timeout, what=what)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group of ``name`` (SIGKILL: no shutdown, no acks) and reap it."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self, name: str) -> str:
        path = self.scratch / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """``manage.py args`` with the scenario's environment."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def close(self) -> None:
        """Stop every process this stack started (the finalizer: also on test failure); remove
        the scratch folder and its logs unless ``FAULTS_KEEP_LOGS`` is set."""
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        self.http.close()
        if not os.environ.get("FAULTS_KEEP_LOGS"):
            shutil.rmtree(self.scratch, ignore_errors=True)

    # --- HTTP -----------------------------------------------------------------------------------
    def headers(self, tenant_id: str, actor_id: str = "dev-1", roles: tuple[str, ...] = ()) -> dict:
        token = self.identity.token(tenant_id=tenant_id, actor_id=actor_id, roles=roles)
        return {"Authorization": f"Bearer {token}"}

    def setup_tenant(self, tenant_id: str, **policy) -> None:
        """Starter playbooks published; quiet hours, quotas and cool-downs out of the way; ``policy``."""
        loaded = self.manage("load_playbooks", "playbooks/starter", "--tenant", tenant_id, "--publish")
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        body = {
            "quiet_hours": {"start": 0, "end": 0},
            "cooldown_minutes": 0,
            "quotas": {
                "max_actions_per_hour": 1000,
                "max_actions_per_day": 10000,
                "max_actions_per_repo_per_day": 100000,
            },
            **policy,
        }
        admin = self.headers(tenant_id, "admin-1", roles=("tenant_admin",))
        response = self.http.put(f"/v1/mmm/tenants/{tenant_id}/policy", json=body, headers=admin)
        assert response.status_code == 200, response.text

    def decide(self, tenant_id: str, signal_id: str, actor_id: str = "dev-1") -> httpx.Response:
        body = {
            "tenant_id": tenant_id,
            "context": {"repo_id": "acme/shop", "branch": "main"},
            "signal": {
                "signal_id": signal_id,
                "source": "github",
                "event_type": "ci.check_run.failed",
                "severity": "high",
            },
        }
        return self.http.post("/v1/mmm/decide", json=body, headers=self.headers(tenant_id, actor_id))

    def post_signals(self, tenant_id: str, signal_ids: list[str]) -> httpx.Response:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        batch = [
            {
                "signal_id": signal_id,
                "tenant_id": tenant_id,
                "actor_id": f"dev-{index % 7}",
                "source": "github",
                "event_type": "ci.check_run.failed",
                "severity": "high",
                "ts": now,
                "context": {"repo_id": "acme/shop", "branch": "main"},
            }
            for index, signal_id in enumerate(signal_ids)
        ]
        return self.http.post("/v1/mmm/signals", json=batch, headers=self.headers(tenant_id, "producer"))


def figures(name: str, **counts: int) -> str:
    """The scenario's figures as one line, printed (visible with -s) and used in assertion messages."""
    line = f"[faults] {name}: " + ", ".join(f"{key}={value}" for key, value in counts.items())
    print(line)
    return line
