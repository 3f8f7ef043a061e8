"""PR-MMM-02, actor-level deletion (NFR-3): after deletion no table, Redis key, log line or receipt
holds the actor id; every receipt still verifies; legal-hold rows are kept and reported."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.core.management import call_command

from decisions.models import ActorDeletionRequest, Decision, Signal
from receipts.models import ActorKey, Receipt
from receipts.pseudonyms import actor_pseudonym
from receipts.services import receipt_document
from receipts.signing import sign
from tests.engine.helpers import MENTOR, MIRROR
from tests.factories import TenantPolicyFactory, publish_playbook
from tests.ingest.commit import after_commit
from tests.privacy.stored import rows_naming

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="greps every table's rows as text (PostgreSQL); .ci/run runs it",
    ),
]

ACTOR = "actor-to-forget-7"


@pytest.fixture
def history(client_for):
    """The actor's history: decisions, an outcome, preferences, a snooze, and a receipt written
    before pseudonyms (raw actor id, as older releases signed them)."""
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook({"name": "ci", "triggers": [{"event_type": "ci.*"}], "actions": [MIRROR, MENTOR]})
    actor = client_for(actor_id=ACTOR)
    decisions = []
    for index in range(3):
        body = {
            "tenant_id": "tenant-a",
            "context": {"repo_id": "org/app", "branch": "main"},
            "signal": {"signal_id": f"del-{index}", "source": "github", "event_type": "ci.check_run.failed"},
        }
        decisions.append(after_commit(actor.post, "/v1/mmm/decide", body, format="json").json()["decision"])
    first = decisions[0]
    actor.post(
        f"/v1/mmm/decisions/{first['decision_id']}/outcomes",
        {"action_id": first["actions"][0]["action_id"], "result": "accepted"},
        format="json",
    )
    admin = client_for(actor_id="privacy-officer", roles=["tenant_admin"])
    admin.put(f"/v1/mmm/actors/{ACTOR}/preferences", {"opt_out_categories": ["multiplier"]}, format="json")
    legacy = {**receipt_document(Receipt.objects.filter(kind="decision").first())}
    legacy.pop("signature")
    legacy.update(receipt_id="00000000-0000-4000-8000-000000000001", actor_id=ACTOR)
    signature, kid = sign(legacy)
    Receipt.objects.create(
        receipt_id=legacy["receipt_id"],
        tenant_id="tenant-a",
        kind="decision",
        payload=legacy,
        signature=signature,
        kid=kid,
        status="local",
    )
    return admin, decisions


def _redis_keys_naming(value: str) -> list[str]:
    if not settings.REDIS_URL:
        return []
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    return [key for key in redis.scan_iter(count=1000) if value.encode() in key]


def test_pr_mmm_02_deletion_leaves_nothing_that_names_the_actor(history, caplog):
    admin, decisions = history
    # given one decision on legal hold
    held = Decision.objects.get(pk=decisions[2]["decision_id"])
    Decision.objects.filter(pk=held.pk).update(legal_hold=True)
    old_pseudonym = actor_pseudonym(tenant_id="tenant-a", actor_id=ACTOR)
    assert rows_naming(ACTOR)  # the history is there
    # when an admin asks for the actor's deletion
    with caplog.at_level(logging.DEBUG):
        response = after_commit(admin.post, f"/v1/mmm/actors/{ACTOR}/deletion")
    # then it is accepted and, on hold, partially completed with the held row reported
    assert response.status_code == 202
    request_id = response.json()["deletion_request_id"]
    state = admin.get(f"/v1/mmm/deletion-requests/{request_id}").json()
    assert (state["status"], state["held"]) == ("partially_completed", {"decisions": 1})
    assert state["counts"]["decisions"] == 2 and state["counts"]["preferences"] == 1
    assert state["counts"]["legacy_receipts_redacted"] == 1 and state["counts"]["pseudonym_keys"] == 1
    assert set(rows_naming(ACTOR)) <= {"mmm_decisions", "mmm_signals", "mmm_actor_deletion_requests"}
    # when the hold is lifted and beat's sweep runs
    Decision.objects.filter(pk=held.pk).update(legal_hold=False)
    from decisions.privacy.services import deletion_requests_sweep

    after_commit(deletion_requests_sweep)
    # then nothing names the actor: no row, no Redis key, no log line, no receipt
    assert ActorDeletionRequest.objects.get(pk=request_id).status == "completed"
    assert rows_naming(ACTOR) == {}
    assert _redis_keys_naming(ACTOR) == []
    assert not any(ACTOR in record.getMessage() or ACTOR in str(record.__dict__) for record in caplog.records)
    assert not ActorKey.objects.filter(actor_id=ACTOR).exists()
    assert (
        not Receipt.objects.filter(payload__actor_id=old_pseudonym).filter(payload__actor_id=ACTOR).exists()
    )
    # every receipt still verifies (the redacted legacy one is reported as such), and the
    # deletion receipt holds counts only
    out = io.StringIO()
    call_command("verify_receipts", "--tenant", "tenant-a", stdout=out)
    assert "0 invalid" in out.getvalue() and "1 redacted" in out.getvalue()
    deletion = receipt_document(Receipt.objects.get(kind="deletion"))
    assert deletion["inputs"]["reason"] == "actor_deletion" and "decisions" in deletion["inputs"]["counts"]
    assert ACTOR not in str(deletion)
    # and no receipt can be linked back: the key is gone, a new history gets a new pseudonym
    assert actor_pseudonym(tenant_id="tenant-a", actor_id=ACTOR) != old_pseudonym
    assert Signal.objects.filter(actor_id__startswith="deleted-").count() == 3


def test_a_second_request_finishes_at_once(history, client_for):
    admin, _ = history
    after_commit(admin.post, f"/v1/mmm/actors/{ACTOR}/deletion")
    request_id = after_commit(admin.post, f"/v1/mmm/actors/{ACTOR}/deletion").json()["deletion_request_id"]
    again = admin.get(f"/v1/mmm/deletion-requests/{request_id}").json()
    assert again["status"] == "completed"
    assert {k: v for k, v in again["counts"].items() if v} == {}


def test_a_blank_actor_id_is_a_400_naming_it(client_for):
    admin = client_for(actor_id="officer", roles=["tenant_admin"])
    response = admin.post("/v1/mmm/actors/%1F/deletion")
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["actor_id"])
    assert not ActorDeletionRequest.objects.exists()


def test_deletion_needs_the_admin_role_and_other_tenants_see_404(history, client_for):
    assert client_for(actor_id="dev-2").post(f"/v1/mmm/actors/{ACTOR}/deletion").status_code == 403
    admin, _ = history
    request_id = after_commit(admin.post, f"/v1/mmm/actors/{ACTOR}/deletion").json()["deletion_request_id"]
    other = client_for(tenant_id="tenant-b", actor_id="officer-b", roles=["tenant_admin"])
    assert other.get(f"/v1/mmm/deletion-requests/{request_id}").status_code == 404


def test_delete_actor_command(history):
    out = io.StringIO()
    call_command("delete_actor", "--tenant", "tenant-a", ACTOR, stdout=out)
    assert "completed" in out.getvalue() and rows_naming(ACTOR) == {}


def test_data_governance_topic_requests_a_deletion(history):
    from decisions.intake.consumer import DELETION_TOPIC, handle_message

    # a malformed message is recorded and rejected; a valid one becomes a request
    assert handle_message(DELETION_TOPIC, {"tenant_id": "tenant-a"}) == "rejected"
    assert (
        after_commit(handle_message, DELETION_TOPIC, {"tenant_id": "tenant-a", "actor_id": ACTOR})
        == "accepted"
    )
    request = ActorDeletionRequest.objects.get()
    assert (request.requested_via, request.status) == ("broker", "completed")
    assert rows_naming(ACTOR) == {}
