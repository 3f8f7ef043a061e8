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
