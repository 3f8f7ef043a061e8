"""``manage.py load_playbooks``: validate everything, report file and field, write all or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from playbooks.models import Playbook, PlaybookStatus, PlaybookTrigger

pytestmark = pytest.mark.django_db

SIMPLE = (
    "name: p\ntriggers: [{event_type: x}]\nactions: [{type: mirror, surfaces: [ide], title: t, body: b}]\n"
)
STARTER = Path(__file__).resolve().parents[2] / "playbooks" / "starter"


def _load(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_playbooks", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_starter_pack_loads_publishes_and_reloads_unchanged():
    out, _ = _load(str(STARTER), "--tenant", "acme", "--publish")
    names = set(Playbook.objects.for_tenant("acme").values_list("name", flat=True))
    assert names == {
        "ci-failing-on-default-branch",
        "flaky-tests",
        "failed-deployment-or-rollback",
        "high-severity-security-alert",
        "secret-scanning-alert",
        "review-churn",
        "production-incident-firing",
    }
    assert set(Playbook.objects.values_list("status", flat=True)) == {PlaybookStatus.PUBLISHED}
    assert out.count("created v1, published") == 7
    out, _ = _load(str(STARTER), "--tenant", "acme", "--publish")
    assert out.count("unchanged v1") == 7
    assert PlaybookTrigger.objects.count() == 14  # one row per trigger of each published version


def test_errors_name_file_playbook_and_field_and_nothing_is_written(tmp_path):
    (tmp_path / "good.yaml").write_text(
        "name: good\ntriggers: [{event_type: ci.x}]\n"
        "actions: [{type: mirror, surfaces: [ide], title: ok, body: fine}]\n"
    )
    (tmp_path / "bad.yaml").write_text(
        "name: bad\ntriggers: [{event_type: ci.x}]\nconditions: ['signal.severity ==']\n"
        "actions: [{type: mirror, surfaces: [ide], title: 'You must look', body: fine}]\n"
    )
    (tmp_path / "broken.json").write_text("{not json")
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("load_playbooks", str(tmp_path), "--tenant", "acme", stderr=err)
    lines = err.getvalue().splitlines()
    assert any(line.startswith(f"{tmp_path / 'bad.yaml'}: bad: conditions[0]: CEL error") for line in lines)
    assert any(
        line.startswith(f"{tmp_path / 'bad.yaml'}: bad: actions[0].title: prescriptive: 'must'")
        for line in lines
    )
    assert any(line.startswith(f"{tmp_path / 'broken.json'}: not valid YAML/JSON") for line in lines)
    assert Playbook.objects.count() == 0


def test_tenant_comes_from_the_file_or_the_option(tmp_path):
    (tmp_path / "p.yaml").write_text(SIMPLE)
    with pytest.raises(CommandError):
        _load(str(tmp_path))
    (tmp_path / "p.yaml").write_text("tenant_id: from-file\n" + (tmp_path / "p.yaml").read_text())
    _load(str(tmp_path))
    assert Playbook.objects.get().tenant_id == "from-file"
    assert Playbook.objects.get().status == PlaybookStatus.DRAFT


def test_changed_file_adds_a_version(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(SIMPLE)
    _load(str(path), "--tenant", "acme", "--publish")
    path.write_text(path.read_text().replace("body: b", "body: changed"))
    out, _ = _load(str(path), "--tenant", "acme", "--publish")
    assert "updated v2, published" in out
    playbook = Playbook.objects.get()
    assert playbook.published_version.version == 2
    assert playbook.versions.count() == 2


def test_missing_path_is_an_error():
    with pytest.raises(CommandError, match="no such file"):
        _load("/nonexistent/playbooks")


def test_each_coercive_phrase_is_reported_with_field_and_category(tmp_path):
    (tmp_path / "pushy.yaml").write_text(
        "name: pushy\ntriggers: [{event_type: ci.x}]\nactions:\n"
        "  - type: mentor\n    surfaces: [ide]\n    title: 'Act now or else'\n"
        "    body: 'This fix is guaranteed to work.'\n"
        "    rationale: {why_relevant: 'You broke the build.', baseline_comparison: 'Builds pass.'}\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="4 problem"):
        call_command("load_playbooks", str(tmp_path), "--tenant", "acme", stderr=err)
    found = {line.split(": ", 2)[2].split(" (")[0] for line in err.getvalue().splitlines()}
    assert found == {
        "actions[0].title: fear: 'or else'",
        "actions[0].title: urgency: 'act now'",
        "actions[0].body: misleading_certainty: 'guaranteed'",
        "actions[0].rationale.why_relevant: blame: 'you broke'",
    }
    assert Playbook.objects.count() == 0
