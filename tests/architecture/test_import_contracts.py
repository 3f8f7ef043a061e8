"""The import contracts of ``.importlinter`` (DESIGN.md, Layout) hold, and they catch a breach.

Apps import downwards only, the decision engine imports no Django, services never import
serializers, views or tasks. The second test breaks each contract in a copy of the code and
checks that ``lint-imports`` fails naming it, so the first one cannot pass by accident.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mmm_project", "decisions", "playbooks", "preferences", "experiments", "receipts", "tasks")
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(tree / ".importlinter"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("playbooks/services.py", "from decisions.models import Decision", "Apps import downwards"),
        (
            "receipts/documents.py",
            "from preferences.models import TenantPolicy",
            "Apps import downwards only",
        ),
        (
            "decisions/engine/gates.py",
            "from django.conf import settings",
            "The decision engine imports no Django",
        ),
        (
            "decisions/engine/gates.py",
            "from opentelemetry import trace",
            "The decision engine imports no Django",
        ),
        ("decisions/intake/services.py", "from decisions.services import decide", "Inside decisions"),
        ("receipts/services.py", "from tasks.receipts import receipt_send_task", "Services never import"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    # given a copy of the code with one forbidden import added
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    # when the contracts are checked
    result = _lint(tmp_path)
    # then the check fails and names the broken contract
    assert result.returncode == 1, result.stdout + result.stderr
    output = " ".join(result.stdout.split())  # contract names wrap over lines
    assert f"{contract}" in output, result.stdout
    assert "BROKEN" in output.split(contract, 1)[1].split("KEPT", 1)[0], result.stdout
