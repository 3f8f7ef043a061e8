"""PROMETHEUS_MULTIPROC_DIR (set in .env.example) is created by any process that finds it missing."""

from __future__ import annotations

import pytest

from tests.integration.helpers import child_env, manage


@pytest.mark.slow
def test_migrate_creates_a_missing_prometheus_multiproc_dir(tmp_path):
    # given a metrics folder that does not exist yet (a fresh checkout with .env.example's value)
    metrics_dir = tmp_path / "not" / "yet" / "prometheus"
    env = child_env(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    # when migrations run before any web process has started
    result = manage(["migrate", "--noinput"], env)
    # then they apply, and the process's metric files are in the created folder
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics_dir.is_dir()
    assert any(metrics_dir.iterdir())


def test_a_start_keeps_every_process_count_and_drops_only_ended_processes_gauges(tmp_path):
    import os
    import subprocess
    import sys

    from mmm_project.observability.multiproc import sweep_ended_processes

    # given the files of a process that ended and of one that runs (this one)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead, alive = int(ended.stdout), os.getpid()
    names = [
        f"{kind}_{pid}.db"
        for pid in (dead, alive)
        for kind in ("counter", "histogram", "gauge_livemax", "gauge_all")
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    # when a process kind starts (gunicorn's on_starting, a worker's or beat's init)
    sweep_ended_processes(str(tmp_path))
    # then counts stay, the ended process's gauges are gone, the running one's kept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{dead}.db", f"histogram_{dead}.db"] + [n for n in names if n.endswith(f"_{alive}.db")]
    )
