"""The demo (issue: make demo) runs on embedded defaults from nothing and exits cleanly."""

from __future__ import annotations

import pytest

from tests.integration.helpers import child_env, manage

pytestmark = pytest.mark.slow


def test_demo_runs_clean_on_embedded_defaults(tmp_path):
    env = child_env(tmp_path, LOG_LEVEL="ERROR")  # no services: SQLite, eager tasks, local keys
    assert manage(["migrate", "--noinput"], env).returncode == 0
    result = manage(["demo"], env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "demo finished without errors" in out
    # the failing job, the secret and the firing alerts reach people; ignored events say why
    assert "ci.workflow_job.failed (high)" in out and "CI is failing on main" in out
    assert "security.secret_scanning.opened (critical)" in out and "Rotate the exposed credential" in out
    assert "incident.firing (medium)" in out and "incident firing in prod" in out
    assert "check_run action 'created' carries no outcome" in out
    assert ", 0 do not" in out
    # a second run is idempotent: every delivery is recognised, nothing fails
    again = manage(["demo"], env, timeout=300)
    assert again.returncode == 0, again.stdout[-2000:]
