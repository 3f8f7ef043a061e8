"""Receipt ledger endpoints: signed head, inclusion and consistency proofs (issue 14), checked
with the standalone verifier an auditor would use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from receipts.ledger.services import receipt_log_append
from receipts.services import receipt_document
from receipts.verify_offline import (
    VerificationError,
    verify_head,
    verify_head_consistency,
    verify_receipt_inclusion,
)
from tests.receipts.ledger.helpers import make_receipts

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
BASE = "/v1/mmm/receipts/log/tenant-a"


@pytest.fixture
def admin(client_for):
    return client_for(tenant_id="tenant-a", roles=["tenant_admin"])


@pytest.fixture
def log():
    """Seven receipts appended as 3 then 4: heads of size 3 and 7."""
    receipts = make_receipts(3)
    receipt_log_append(tenant_id="tenant-a")
    receipts += make_receipts(4, start=3)
    receipt_log_append(tenant_id="tenant-a")
    return receipts


def test_head_inclusion_and_consistency_verify_offline(admin, client, log):
    jwks = client.get("/v1/mmm/receipts/keys").json()
    head = admin.get(f"{BASE}/head").json()
    assert head["tree_size"] == 7 and head["kind"] == "tree_head"
    verify_head(jwks, head)
    for index, receipt in enumerate(log):
        proof = admin.get(f"{BASE}/proof/inclusion", {"receipt_id": str(receipt.pk)}).json()
        assert proof["leaf_index"] == index and proof["tree_head"] == head
        assert verify_receipt_inclusion(jwks, head, receipt_document(receipt), proof) == index
    # an earlier size: the proof carries that size's signed head
    old = admin.get(f"{BASE}/proof/inclusion", {"receipt_id": str(log[1].pk), "tree_size": 3}).json()
    assert old["tree_head"]["tree_size"] == 3
    verify_receipt_inclusion(jwks, old["tree_head"], receipt_document(log[1]), old)
    consistency = admin.get(f"{BASE}/proof/consistency", {"first": 3}).json()
    assert consistency["second"] == 7 and consistency["second_tree_head"] == head
    verify_head_consistency(jwks, consistency["first_tree_head"], head, consistency)
    # and a changed receipt, or a proof for another one, does not verify
    changed = {**receipt_document(log[2]), "operation": "delete"}
    with pytest.raises(VerificationError, match="signature"):
        verify_receipt_inclusion(
            jwks, head, changed, admin.get(f"{BASE}/proof/inclusion", {"receipt_id": str(log[2].pk)}).json()
        )
    other = admin.get(f"{BASE}/proof/inclusion", {"receipt_id": str(log[3].pk)}).json()
    with pytest.raises(VerificationError, match="another receipt"):
        verify_receipt_inclusion(jwks, head, receipt_document(log[2]), other)
    wrong_root = {**head, "root_hash": "00" * 32}
    with pytest.raises(VerificationError):
        verify_head(jwks, wrong_root)


def test_the_offline_verifier_runs_without_django(admin, client, log, tmp_path):
    files = {
        "jwks": client.get("/v1/mmm/receipts/keys").json(),
        "head": admin.get(f"{BASE}/head").json(),
        "receipt": receipt_document(log[5]),
        "inclusion": admin.get(f"{BASE}/proof/inclusion", {"receipt_id": str(log[5].pk)}).json(),
    }
    consistency = admin.get(f"{BASE}/proof/consistency", {"first": 3}).json()
    files["old-head"], files["consistency"] = consistency["first_tree_head"], consistency
    args = []
    for name, content in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
        args += [f"--{name}", str(tmp_path / f"{name}.json")]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = "import runpy, sys; sys.argv = ['verify'] + sys.argv[1:]; " + (
        "from receipts import verify_offline as v; rc = v.main(); "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'imported Django'; "
        "sys.exit(rc)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok   ") == 3 and "(index 5)" in run.stdout
    # a tampered receipt fails with a non-zero exit
    (tmp_path / "receipt.json").write_text(json.dumps({**files["receipt"], "operation": "delete"}))
    run = subprocess.run(
        [sys.executable, "-m", "receipts.verify_offline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "FAIL receipt in the tree" in run.stdout


def test_another_tenant_or_a_non_admin_cannot_read_the_log(client_for, log):
    other = client_for(tenant_id="tenant-b", roles=["tenant_admin"])
    assert other.get(f"{BASE}/head").status_code == 404
    assert other.get(f"{BASE}/proof/inclusion", {"receipt_id": str(log[0].pk)}).status_code == 404
    assert other.get(f"{BASE}/proof/consistency", {"first": 1}).status_code == 404
    reader = client_for(tenant_id="tenant-a")
    assert reader.get(f"{BASE}/head").status_code == 403


def test_bad_requests_name_the_field(admin, log):
    def error(path, params):
        response = admin.get(f"{BASE}/{path}", params)
        return response.status_code, response.json()["error"]

    status, body = error("proof/inclusion", {"receipt_id": str(log[0].pk), "tree_size": 8})
    assert status == 400 and "tree_size" in body["fields"]
    status, body = error("proof/inclusion", {"receipt_id": str(log[4].pk), "tree_size": 3})
    assert status == 400 and "tree_size" in body["fields"]
    status, body = error("proof/inclusion", {"receipt_id": "not-a-uuid"})
    assert status == 400 and "receipt_id" in body["fields"]
    status, body = error("proof/consistency", {"first": 5, "second": 3})
    assert status == 400 and "first" in body["fields"]
    status, body = error("proof/consistency", {"first": 0})
    assert status == 400 and "first" in body["fields"]
    assert (
        admin.get(
            f"{BASE}/proof/inclusion", {"receipt_id": "00000000-0000-4000-8000-000000000000"}
        ).status_code
        == 404
    )
    (waiting,) = make_receipts(1, start=99)
    status, body = error("proof/inclusion", {"receipt_id": str(waiting.pk)})
    assert status == 409 and body["code"] == "RECEIPT_NOT_IN_LOG"


def test_an_empty_log_has_no_head(client_for):
    admin = client_for(tenant_id="tenant-c", roles=["tenant_admin"])
    response = admin.get("/v1/mmm/receipts/log/tenant-c/head")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert admin.get("/v1/mmm/receipts/log/tenant-c/proof/consistency", {"first": 1}).status_code == 404
    response = admin.get("/v1/mmm/receipts/log/tenant-c/proof/consistency", {"first": 1, "second": 1})
    assert response.status_code == 400 and "second" in response.json()["error"]["fields"]
