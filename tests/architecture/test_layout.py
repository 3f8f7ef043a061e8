"""The layout stays readable (issue: one room per concern): small modules, no crowded folder.

Application code is the project's packages, migrations excluded. A module over 350 lines or a
folder holding over 2,000 lines directly (each sub-folder counted on its own) is a sign that a
concern needs a room of its own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mmm_project", "decisions", "playbooks", "preferences", "experiments", "receipts", "tasks")
MAX_MODULE_LINES = 350
MAX_FOLDER_LINES = 2000


def _modules() -> dict[Path, int]:
    return {
        path: len(path.read_text().splitlines())
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def test_no_application_module_is_over_350_lines():
    too_long = {str(p.relative_to(ROOT)): n for p, n in _modules().items() if n > MAX_MODULE_LINES}
    assert too_long == {}


def test_no_folder_holds_over_2000_lines_directly():
    per_folder: Counter[str] = Counter()
    for path, lines in _modules().items():
        per_folder[str(path.parent.relative_to(ROOT))] += lines
    assert {folder: n for folder, n in per_folder.items() if n > MAX_FOLDER_LINES} == {}
    assert per_folder["decisions"] > 0  # the walk found the code
