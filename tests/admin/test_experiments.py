"""Experiments (spec 11.6, FR-9): deterministic assignment, variants in decide, results, API."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from decisions.models import Action, Decision
from experiments.assignment import assign_variant
from receipts.models import Receipt
from receipts.services import receipt_document
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.integration.helpers import ROOT

VARIANTS = [("control", 50.0), ("b", 30.0), ("c", 20.0)]


def test_same_actor_same_variant_across_1000_calls():
    first = assign_variant("exp-1", "actor-42", VARIANTS)
    assert {assign_variant("exp-1", "actor-42", VARIANTS) for _ in range(1000)} == {first}


def test_same_assignments_in_another_process():
    actors = [f"actor-{i}" for i in range(200)]
    here = [assign_variant("exp-1", a, VARIANTS) for a in actors]
    script = (
        "from experiments.assignment import assign_variant\n"
        f"print(','.join(assign_variant('exp-1', f'actor-{{i}}', {VARIANTS!r}) for i in range(200)))"
    )
    # a fresh interpreter with another hash seed: nothing may depend on process state
    other = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert other.stdout.strip().split(",") == here


def test_variant_shares_over_10000_actors_are_within_2_percent():
    counts = Counter(assign_variant("exp-shares", f"actor-{i}", VARIANTS) for i in range(10_000))
    total = sum(weight for _, weight in VARIANTS)
    for name, weight in VARIANTS:
        assert abs(counts[name] / 10_000 - weight / total) < 0.02, counts


def test_different_experiments_assign_independently():
    a = [assign_variant("exp-a", f"actor-{i}", VARIANTS) for i in range(500)]
    b = [assign_variant("exp-b", f"actor-{i}", VARIANTS) for i in range(500)]
    assert a != b


def test_weights_must_be_positive():
    with pytest.raises(ValueError):
        assign_variant("e", "u", [("a", 0.0)])


@pytest.fixture
def setup(db, client_for):
    TenantPolicyFactory(
        tenant_id="tenant-a",
        quiet_hours_start=0,
        quiet_hours_end=0,
        cooldown_minutes=0,
        max_actions_per_hour=1000,
        max_actions_per_day=1000,
        enabled_action_types=["mirror", "mentor"],
    )
    playbook = publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR]})
    return playbook, client_for(actor_id="lead", roles=["tenant_admin"])


def _experiment(admin, playbook, **overrides):
    body = {
        "name": "mentor-vs-mirror",
        "playbook_id": str(playbook.id),
        "variants": [
            {"name": "control", "weight": 50},
            {"name": "mentor", "weight": 50, "actions": [MENTOR]},
        ],
    }
    body.update(overrides)
    return admin.post("/v1/mmm/experiments", body, format="json")


def test_experiment_variants_shape_decisions_and_are_recorded(setup, client_for):
    playbook, admin = setup
    created = _experiment(admin, playbook)
    assert created.status_code == 201, created.content
    experiment_id = created.json()["experiment_id"]
    assert admin.post(f"/v1/mmm/experiments/{experiment_id}/activate").json()["status"] == "active"
    seen = {}
    for i in range(40):
        actor = f"actor-{i}"
        body = {
            "tenant_id": "tenant-a",
            "signal": {"signal_id": f"s{i}", "source": "github", "event_type": "ci.check_run.failed"},
        }
        decision = client_for(actor_id=actor).post("/v1/mmm/decide", body, format="json").json()["decision"]
        variant = assign_variant(experiment_id, actor, [("control", 50.0), ("mentor", 50.0)])
        seen[variant] = seen.get(variant, 0) + 1
        # control keeps the published Mirror; the variant proposes its Mentor instead
        assert [a["type"] for a in decision["actions"]] == (
            ["mirror"] if variant == "control" else ["mentor"]
        )
        stored = Decision.objects.get(pk=decision["decision_id"])
        assert stored.experiment_assignments == {
            experiment_id: {"playbook_id": str(playbook.id), "variant": variant}
        }
        receipt = receipt_document(Receipt.objects.get(decision_id=stored.id, kind="decision"))
        assert receipt["experiment_assignments"] == stored.experiment_assignments
    assert set(seen) == {"control", "mentor"}
    results = admin.get(f"/v1/mmm/experiments/{experiment_id}").json()["results"]
    assert results["control"]["decisions"] == seen["control"]
    assert results["mentor"]["actions_by_type"] == {"mentor": seen["mentor"]}
    assert Action.objects.filter(experiment_id=experiment_id).count() == 40


def test_an_experiment_cannot_enable_what_policy_disables(setup, client_for):
    playbook, admin = setup
    multiplier = {
        "type": "multiplier",
        "surfaces": ["ide"],
        "title": "Rerun",
        "body": "Rerun it.",
        "rationale": {"why_relevant": "x", "baseline_comparison": "y"},
        "execution": {"executor": "ci", "operation": "rerun"},
    }
    experiment_id = _experiment(
        admin,
        playbook,
        name="sneaky",
        variants=[
            {"name": "control", "weight": 1},
            {"name": "auto", "weight": 1000, "actions": [multiplier]},
        ],
    ).json()["experiment_id"]
    admin.post(f"/v1/mmm/experiments/{experiment_id}/activate")
    for i in range(10):
        body = {
            "tenant_id": "tenant-a",
            "signal": {"signal_id": f"x{i}", "source": "github", "event_type": "ci.x"},
        }
        client_for(actor_id=f"a{i}").post("/v1/mmm/decide", body, format="json")
    assert not Action.objects.filter(type="multiplier").exists()


def test_experiment_validation_names_the_field(setup):
    playbook, admin = setup
    bad_template = _experiment(
        admin,
        playbook,
        variants=[
            {"name": "control", "weight": 1},
            {"name": "b", "weight": 1, "actions": [{**MIRROR, "title": "You must"}]},
        ],
    )
    assert bad_template.status_code == 400
    assert "variants[1].actions[0].title" in bad_template.json()["error"]["fields"]
    missing_version = _experiment(
        admin,
        playbook,
        variants=[
            {"name": "control", "weight": 1},
            {"name": "b", "weight": 1, "playbook_version": 7},
        ],
    )
    assert "variants[1].playbook_version" in missing_version.json()["error"]["fields"]
    no_control = _experiment(admin, playbook, control_variant="absent")
    assert "control_variant" in no_control.json()["error"]["fields"]
    zero = _experiment(
        admin, playbook, variants=[{"name": "control", "weight": 0}, {"name": "b", "weight": 1}]
    )
    assert "variants[0].weight" in zero.json()["error"]["fields"]


def test_experiment_lifecycle_rules(setup, client_for):
    playbook, admin = setup
    first = _experiment(admin, playbook).json()["experiment_id"]
    second = _experiment(admin, playbook, name="another").json()["experiment_id"]
    admin.post(f"/v1/mmm/experiments/{first}/activate")
    # one active experiment per playbook, and no edits while running
    assert admin.post(f"/v1/mmm/experiments/{second}/activate").status_code == 409
    assert admin.put(f"/v1/mmm/experiments/{first}", {"description": "x"}, format="json").status_code == 409
    assert admin.post(f"/v1/mmm/experiments/{first}/deactivate").json()["status"] == "inactive"
    assert (
        admin.put(f"/v1/mmm/experiments/{first}", {"description": "x"}, format="json").json()["description"]
        == "x"
    )
    listed = admin.get("/v1/mmm/experiments?status=inactive").json()
    assert [e["experiment_id"] for e in listed] == [first]
    assert admin.get("/v1/mmm/experiments?tenant_id=tenant-b").status_code == 404
    assert (
        client_for(tenant_id="tenant-b", roles=["tenant_admin"])
        .get(f"/v1/mmm/experiments/{first}")
        .status_code
        == 404
    )
    assert client_for().get("/v1/mmm/experiments").status_code == 403
    operations = [
        r.payload["inputs"]["operation"]
        for r in Receipt.objects.filter(payload__inputs__resource_type="experiment").order_by("created_at")
    ]
    assert operations == ["create", "create", "activate", "deactivate", "update"]
