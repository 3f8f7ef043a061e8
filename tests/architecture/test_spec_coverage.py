"""``docs/spec-coverage.md`` stays current (issue 16): one row per spec id, every test and report it
names exists, each test named after a spec test case is listed in that case's row, and the summary
line counts the rows.

The spec ids (FR-n, NFR-n, the endpoints and event streams of spec 11 and FR-1, the test cases of
spec 13) are read from the PRD when it is at hand: ``MMM_SPEC_PATH``, or
``../shared/spec/MMM_Engine_PRD.md`` next to the checkout. A clone without it skips that comparison
only; every other check reads this repository alone. All checks are static: no collection, no
database.
"""

from __future__ import annotations

import ast
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "spec-coverage.md"
DEFAULT_SPEC = ROOT.parent / "shared" / "spec" / "MMM_Engine_PRD.md"
STATUSES = ("done", "partial", "not done")

ROW_ID = re.compile(
    r"N?FR-\d+|[A-Z]{2}-MMM-\d{2}|(?:GET|POST|PUT|PATCH|DELETE) /v1/mmm/\S+|topic mmm\.[a-z_.]+"
)
TEST_REF = re.compile(r"(tests/[\w/]+\.py)((?:::\w+)+)")
REPORT_REF = re.compile(r"bench/reports/[\w.-]+\.md")
CASE_TEST = re.compile(r"test_([a-z]{2})_mmm_(\d{2})_")
SUMMARY = re.compile(r"^(\d+) rows: (\d+) done, (\d+) partial, (\d+) not done\.$", re.M)

SPEC_REQUIREMENT = re.compile(r"^((?:FR|NFR)-\d+) [\u2013-] ", re.M)
SPEC_TEST_CASE = re.compile(r"^([A-Z]{2}-MMM-\d{2}) [\u2013-] ", re.M)
SPEC_ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) `?(/v1/mmm/[^\s`,;)]+)")
SPEC_TOPIC = re.compile(r"^- `(mmm\.[a-z_.]+)` [\u2013-] ", re.M)


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    status: str
    refs: tuple[str, ...]
    note: str


def parse_table(text: str) -> tuple[list[Row], list[str]]:
    """The rows of every five-column table (header and rule lines skipped), and the table lines
    that are not five cells (a ``|`` in a note, a missing cell)."""
    rows, malformed = [], []
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5:
            malformed.append(line)
        elif cells[0] != "id":
            row_id, title, status, shown_by, note = cells
            refs = tuple(re.findall(r"`([^`]+)`", shown_by))
            rows.append(Row(row_id.strip("`"), title, status, refs, note))
    return rows, malformed


def spec_ids(text: str) -> set[str]:
    """Every id the spec names: requirements, test cases, ``METHOD /v1/mmm/...`` endpoints
    wherever they are named with their method, and the event-stream topics of spec 11.9."""
    ids = set(SPEC_REQUIREMENT.findall(text)) | set(SPEC_TEST_CASE.findall(text))
    ids |= {f"{method} {path.rstrip('.')}" for method, path in SPEC_ENDPOINT.findall(text)}
    ids |= {f"topic {topic}" for topic in SPEC_TOPIC.findall(text)}
    return ids


@cache
def _definitions(path: Path) -> dict[str, set[str]]:
    """``{"": module-level functions and classes, class name: its methods}``."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    defined: dict[str, set[str]] = {"": set()}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (*functions, ast.ClassDef)):
            defined[""].add(node.name)
        if isinstance(node, ast.ClassDef):
            defined[node.name] = {item.name for item in node.body if isinstance(item, functions)}
    return defined


def _ref_exists(ref: str) -> bool:
    if REPORT_REF.fullmatch(ref):
        return (ROOT / ref).is_file()
    match = TEST_REF.fullmatch(ref)
    if not match or not (ROOT / match[1]).is_file():
        return False
    names = match[2].split("::")[1:]
    defined = _definitions(ROOT / match[1])
    if len(names) == 1:
        return names[0].startswith("test") and names[0] in defined[""]
    if len(names) == 2:
        cls, method = names
        return cls.startswith("Test") and method.startswith("test") and method in defined.get(cls, set())
    return False


def missing_refs(refs: list[str]) -> list[str]:
    """The references that name no test (``tests/...py::test_x`` or ``::TestX::test_y``, the
    file defining it) and no report under ``bench/reports/``."""
    return [ref for ref in refs if not _ref_exists(ref)]


def _case_tests() -> list[tuple[str, str]]:
    """``(spec test case id, node id)`` for each test named after a spec test case."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for owner, names in _definitions(path).items():
            for name in sorted(names):
                match = CASE_TEST.match(name)
                if match:
                    node = f"{relative}::{owner}::{name}" if owner else f"{relative}::{name}"
                    found.append((f"{match[1].upper()}-MMM-{match[2]}", node))
    return found


@pytest.fixture(scope="module")
def table() -> list[Row]:
    rows, _ = parse_table(DOC.read_text(encoding="utf-8"))
    return rows


@pytest.fixture(scope="module")
def spec_text() -> str:
    named = os.environ.get("MMM_SPEC_PATH")
    path = Path(named) if named else DEFAULT_SPEC
    if not path.is_file():
        if named:
            pytest.fail(f"MMM_SPEC_PATH names no file: {named}")
        pytest.skip("no spec at ../shared/spec/MMM_Engine_PRD.md; set MMM_SPEC_PATH to compare with it")
    return path.read_text(encoding="utf-8")


def test_every_row_is_well_formed(table):
    _, malformed = parse_table(DOC.read_text(encoding="utf-8"))
    assert malformed == []
    assert len(table) > 50, "the table was not found: the parser is stale"
    counted = Counter(row.id for row in table)
    assert [row_id for row_id, n in counted.items() if n > 1] == []
    assert [row.id for row in table if not ROW_ID.fullmatch(row.id)] == []
    assert [row.id for row in table if row.status not in STATUSES or not row.title] == []
    assert [row.id for row in table if row.status == "done" and not row.refs] == []
    assert [row.id for row in table if row.status != "done" and not row.note] == []


def test_every_test_and_report_named_exists(table):
    missing = {row.id: missing_refs(list(row.refs)) for row in table}
    assert {row_id: refs for row_id, refs in missing.items() if refs} == {}


def test_tests_named_after_a_spec_case_are_listed_in_its_row(table):
    by_id = {row.id: row for row in table}
    found = _case_tests()
    assert found, "no test named after a spec test case: the pattern is stale"
    unlisted = [(case, node) for case, node in found if node not in getattr(by_id.get(case), "refs", ())]
    assert unlisted == []


def test_the_summary_counts_the_rows(table):
    match = SUMMARY.search(DOC.read_text(encoding="utf-8"))
    assert match, "the summary line '<n> rows: <n> done, <n> partial, <n> not done.' is missing"
    statuses = Counter(row.status for row in table)
    expected = (len(table), statuses["done"], statuses["partial"], statuses["not done"])
    assert tuple(int(n) for n in match.groups()) == expected


def test_every_spec_id_has_exactly_one_row(table, spec_text):
    ids = spec_ids(spec_text)
    kinds = [r"N?FR-", r"[A-Z]{2}-MMM-", r"(GET|POST|PUT|PATCH|DELETE) ", r"topic "]
    assert all(any(re.match(kind, i) for i in ids) for kind in kinds), "a spec pattern is stale"
    listed = {row.id for row in table}
    assert (sorted(ids - listed), sorted(listed - ids)) == ([], [])


def test_the_spec_parser_reads_each_kind_of_id():
    dash = "\u2013"  # the spec writes "FR-1 <en dash> Title"
    text = "\n".join(
        [
            f"FR-1 {dash} Signal Intake",
            "Explicit trigger endpoint: POST `/v1/mmm/triggers/evaluate` for CI.",
            f"NFR-12 {dash} Latency",
            f"not FR-2 {dash} mid-line",
            "- CRUD endpoints: GET `/v1/mmm/playbooks`, DELETE `/v1/mmm/playbooks/{playbook_id}` (x).",
            "GET /v1/mmm/health",
            "calling IAM `/v1/iam/decision`; proxied at `/api/v1/mmm/preferences`; calls to /v1/mmm/decide.",
            f"UT-MMM-01 {dash} Playbook Matching Logic",
            f"- `mmm.decisions` {dash} produced",
            f"- `pm3.signals` {dash} not ours",
        ]
    )
    assert spec_ids(text) == {
        "FR-1",
        "NFR-12",
        "UT-MMM-01",
        "POST /v1/mmm/triggers/evaluate",
        "GET /v1/mmm/playbooks",
        "DELETE /v1/mmm/playbooks/{playbook_id}",
        "GET /v1/mmm/health",
        "topic mmm.decisions",
    }


def test_the_reference_check_catches_what_is_missing():
    here = "tests/architecture/test_spec_coverage.py"
    refs = [
        f"{here}::test_no_such_test",
        "tests/architecture/test_nowhere.py::test_every_row_is_well_formed",
        f"{here}::missing_refs",  # defined, but not a test
        f"{here}::Row::id",
        "bench/reports/nowhere.md",
        "tests/architecture/test_spec_coverage.py",
        f"{here}::test_every_row_is_well_formed",
        "tests/decisions/test_llm.py::test_it_mmm_03_unsafe_content_never_reaches_a_surface",
        "bench/reports/decide_http.md",
    ]
    assert missing_refs(refs) == refs[:6]


def test_a_malformed_line_is_reported_not_skipped():
    text = "| id | title | status | shown by | note |\n|---|---|---|---|---|\n| FR-1 | a | done | `x` |\n"
    assert parse_table(text) == ([], ["| FR-1 | a | done | `x` |"])
