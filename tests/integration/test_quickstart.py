"""The README's run command, from a fresh copy with a clean environment, serves /v1/mmm/health.

It builds its own virtual environment from requirements/ (pip's cache makes that tens of
seconds), so it proves the install steps live in the project's files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.integration.helpers import ROOT, closed_port

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 600


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in listed if (ROOT / name).is_file()]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_make_run_from_a_fresh_copy_serves_health(tmp_path):
    if shutil.which("make") is None:
        pytest.fail("make is required by the README's quickstart")
    # given a fresh copy of the project's files and an environment with nothing configured
    checkout = tmp_path / "checkout"
    for name in _project_files():
        target = checkout / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "PIP_INDEX_URL") if key in os.environ}
    port = closed_port()
    log = (tmp_path / "run.log").open("w")

    # when the README's run command starts
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        result = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                result = _get(f"http://127.0.0.1:{port}/v1/mmm/health")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(1)
        output = (tmp_path / "run.log").read_text()
        # then it answers healthy on embedded defaults: SQLite and generated local state
        assert result == (200, {"status": "healthy"}), output[-4000:]
        ready = _get(f"http://127.0.0.1:{port}/v1/mmm/ready")
        assert ready[0] == 200, ready
        assert (checkout / "var" / "db.sqlite3").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
