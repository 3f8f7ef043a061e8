"""Every recorded GitHub and Alertmanager delivery through its HTTP adapter (FR-1, spec 12.1-12.3)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from decisions.intake.webhooks import github_sign, webhook_endpoint_create
from decisions.models import Decision, Signal, WebhookRoute
from tests.factories import TenantPolicyFactory
from tests.ingest.commit import after_commit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "real-input"

# file -> (event_type, severity, branch, actor_type) for mapped deliveries, or the ignore reason.
GITHUB = {
    "check_run/completed": ("ci.check_run.succeeded", "info", "changes", "human"),
    "check_run/created": "check_run action 'created' carries no outcome",
    "check_run/requested_action": "check_run action 'requested_action' carries no outcome",
    "check_run/rerequested": "check_run action 'rerequested' carries no outcome",
    "check_suite/completed": ("ci.check_suite.succeeded", "info", "changes", "human"),
    "check_suite/requested": "check_suite action 'requested' carries no outcome",
    "code_scanning_alert/created": ("security.code_scanning.opened", "high", "code-feature", "ai_agent"),
    "code_scanning_alert/fixed": ("security.code_scanning.resolved", "info", "", "ai_agent"),
    "dependabot_alert/created": ("security.dependabot.opened", "medium", "", "ai_agent"),
    "deployment_status/gh-pages": "deployment_status state 'in_progress' carries no outcome",
    "deployment_status/payload": ("deploy.succeeded", "info", "master", "human"),
    "pull_request/closed": ("review.pull_request.closed", "info", "changes", "human"),
    "pull_request/opened": ("review.pull_request.opened", "info", "changes", "human"),
    "pull_request/ready_for_review": ("review.pull_request.ready_for_review", "info", "changes", "human"),
    "pull_request/review_requested": "pull_request action 'review_requested' is not mapped",
    "pull_request/synchronize": ("review.pull_request.synchronize", "info", "changes", "human"),
    "pull_request_review/dismissed": ("review.dismissed", "low", "changes", "human"),
    "pull_request_review/submitted": ("review.commented", "info", "changes", "human"),
    "push/payload": "push to a tag or other ref carries no signal",
    "secret_scanning_alert/reopened": ("security.secret_scanning.opened", "critical", "", "human"),
    "status/payload": ("ci.status.succeeded", "info", "master", "human"),
    "workflow_job/completed.failure.with-organization": ("ci.workflow_job.failed", "high", "main", "human"),
    "workflow_job/in_progress": "workflow_job action 'in_progress' carries no outcome",
    "workflow_job/queued": "workflow_job action 'queued' carries no outcome",
    "workflow_run/completed": ("ci.workflow_run.succeeded", "info", "master", "human"),
    "workflow_run/requested": "workflow_run action 'requested' carries no outcome",
}


def _github_files():
    return sorted(ROOT.glob("github/*/*.json"))


def _key(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.json').removesuffix('.payload')}"


@pytest.fixture
def github_secret():
    keys = set()
    for path in _github_files():
        payload = json.loads(path.read_bytes())
        for prefix, value in (
            ("installation", (payload.get("installation") or {}).get("id")),
            ("owner", ((payload.get("repository") or {}).get("owner") or {}).get("id")),
        ):
            if value:
                keys.add(f"{prefix}:{value}")
    _, secret = webhook_endpoint_create(
        tenant_id="acme", provider="github", name="gh", routes=sorted(keys), actor_id="lead"
    )
    TenantPolicyFactory(
        tenant_id="acme",
        quiet_hours_start=0,
        quiet_hours_end=0,
        max_actions_per_hour=100,
        max_actions_per_day=100,
    )
    from django.core.management import call_command

    call_command(
        "load_playbooks",
        str(ROOT.parents[1] / "playbooks" / "starter"),
        "--tenant",
        "acme",
        "--publish",
        stdout=open("/dev/null", "w"),
    )
    return secret


def _deliver(
    body: bytes, event: str, secret: str | None, delivery: str | None = None, signature: str | None = None
):
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery or str(uuid.uuid4())}
    if signature is not None or secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = (
            signature if signature is not None else github_sign(secret, body)
        )
    return after_commit(
        APIClient().post, "/v1/mmm/webhooks/github", data=body, content_type="application/json", **headers
    )


def test_every_github_file_is_covered_by_the_expectations():
    assert {_key(p) for p in _github_files()} == set(GITHUB)


@pytest.mark.parametrize("path", _github_files(), ids=_key)
def test_every_github_delivery_is_accepted_with_the_expected_signal(github_secret, path):
    body = path.read_bytes()
    payload = json.loads(body)
    response = _deliver(body, path.parent.name, github_secret, delivery=f"d-{_key(path)}")
    assert response.status_code == 202, response.content
    expected = GITHUB[_key(path)]
    if isinstance(expected, str):
        assert response.json() == {"status": "ignored", "reason": expected}
        assert not Signal.objects.exists()
        return
    assert response.json()["status"] == "accepted"
    signal = Signal.objects.get()
    event_type, severity, branch, actor_type = expected
    assert (signal.event_type, signal.severity, signal.actor_type) == (event_type, severity, actor_type)
    assert signal.tenant_id == "acme"
    assert signal.actor_id == f"github:{payload['sender']['id']}"
    assert signal.signal_id == f"github:d-{_key(path)}"
    assert signal.context.get("repo_id") == payload["repository"]["full_name"]
    assert signal.context.get("branch", "") == branch
    # NFR-3: only the adapter's allow-listed fields are stored, never the sender or the body.
    assert set(signal.payload) <= {"github_event", "action"}
    assert payload["sender"]["login"] not in signal.payload.values()
    assert signal.status == "decided"  # decided in-process in the embedded default
    stored = json.dumps({"payload": signal.payload, "context": signal.context, "actor": signal.actor_id})
    assert f'"{payload["sender"]["login"]}"' not in stored  # no login names stored


@pytest.mark.parametrize(
    ("key", "kinds"),
    [
        ("workflow_job/completed.failure.with-organization", {"mirror"}),
        ("secret_scanning_alert/reopened", {"mirror", "mentor"}),
        ("code_scanning_alert/created", {"mirror", "mentor"}),
    ],
)
def test_failures_and_alerts_produce_decisions_with_actions(github_secret, key, kinds):
    path = next(p for p in _github_files() if _key(p) == key)
    _deliver(path.read_bytes(), path.parent.name, github_secret)
    decision = Decision.objects.get()
    assert kinds <= {a.type for a in decision.actions.all()}


def test_wrong_or_missing_signature_is_401_and_stores_nothing(github_secret):
    path = ROOT / "github" / "workflow_job" / "completed.failure.with-organization.payload.json"
    body = path.read_bytes()
    for response in (
        _deliver(body, "workflow_job", None),
        _deliver(body, "workflow_job", None, signature="sha256=" + "0" * 64),
        _deliver(body, "workflow_job", "another-secret"),
        _deliver(body + b" ", "workflow_job", None, signature=github_sign(github_secret, body)),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert not Signal.objects.exists()


def test_unknown_installation_is_401(github_secret):
    payload = json.loads((ROOT / "github" / "push" / "payload.json").read_bytes())
    payload["repository"]["owner"]["id"] = 999_999_999
    body = json.dumps(payload).encode()
    assert _deliver(body, "push", github_secret).status_code == 401


def test_a_redelivery_is_not_a_second_signal(github_secret):
    path = ROOT / "github" / "workflow_job" / "completed.failure.with-organization.payload.json"
    first = _deliver(path.read_bytes(), "workflow_job", github_secret, delivery="same-delivery")
    again = _deliver(path.read_bytes(), "workflow_job", github_secret, delivery="same-delivery")
    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    assert Signal.objects.count() == 1 and Decision.objects.count() == 1


def test_the_same_signed_body_under_a_new_delivery_id_is_a_replay(github_secret):
    # given a captured delivery (the signature covers the body, not X-GitHub-Delivery)
    path = ROOT / "github" / "workflow_job" / "completed.failure.with-organization.payload.json"
    first = _deliver(path.read_bytes(), "workflow_job", github_secret, delivery="original")
    # when it is sent again under a new delivery id
    replayed = _deliver(path.read_bytes(), "workflow_job", github_secret, delivery="forged-new-id")
    # then it is the first delivery's duplicate: one signal, one decision
    assert replayed.json() == {"status": "duplicate", "signal_id": first.json()["signal_id"]}
    assert Signal.objects.count() == 1 and Decision.objects.count() == 1


def test_two_tenants_may_route_one_installation_and_the_signature_decides(github_secret):
    # given another tenant registering the same installation and owner ids with its own secret
    path = ROOT / "github" / "workflow_job" / "completed.failure.with-organization.payload.json"
    keys = [key for key in WebhookRoute.objects.values_list("key", flat=True)]
    _, other_secret = webhook_endpoint_create(
        tenant_id="other", provider="github", name="gh", routes=keys, actor_id="lead"
    )
    # when each tenant's secret signs a delivery
    mine = _deliver(path.read_bytes(), "workflow_job", github_secret)
    theirs = _deliver(path.read_bytes().replace(b'"id"', b'"id" ', 1), "workflow_job", other_secret)
    # then each lands in the tenant whose secret verified it, and a wrong secret in none
    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert sorted(Signal.objects.values_list("tenant_id", flat=True)) == ["acme", "other"]
    assert _deliver(path.read_bytes(), "workflow_job", "not-a-secret").status_code == 401


def test_malformed_json_is_400_and_missing_headers_are_named(github_secret):
    bad = _deliver(b"{not json", "push", github_secret)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "MALFORMED_REQUEST"
    body = (ROOT / "github" / "push" / "payload.json").read_bytes()
    response = APIClient().post(
        "/v1/mmm/webhooks/github",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=github_sign(github_secret, body),
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"X-GitHub-Event", "X-GitHub-Delivery"}
    assert not Signal.objects.exists()


def test_ping_is_ignored(github_secret):
    payload = json.loads((ROOT / "github" / "push" / "payload.json").read_bytes())
    body = json.dumps(
        {
            "zen": "Keep it logically awesome.",
            "hook_id": 1,
            "repository": payload["repository"],
            "sender": payload["sender"],
        }
    ).encode()
    response = _deliver(body, "ping", github_secret)
    assert response.json() == {"status": "ignored", "reason": "event 'ping' is not mapped"}


# --- Alertmanager -------------------------------------------------------------------------------------

ALERTMANAGER = {
    "prometheus-msteams.prom_post_request.json": [
        ("incident.firing", "medium", "team:docker_nodes", {}),
    ],
    "prometheus-webhook-dingtalk.PlaygroundDemoAlert.json": [
        ("incident.firing", "medium", "team:prometheus_bot", {"environment": "prod"}),
        ("incident.firing", "medium", "team:prometheus_bot", {"environment": "staging"}),
    ],
}


@pytest.fixture
def alert_token(github_secret):
    _, token = webhook_endpoint_create(
        tenant_id="acme", provider="alertmanager", name="am", routes=[], actor_id="lead"
    )
    return token


def _alert(body: bytes, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return after_commit(
        APIClient().post,
        "/v1/mmm/webhooks/alertmanager",
        data=body,
        content_type="application/json",
        **headers,
    )


@pytest.mark.parametrize("name", sorted(ALERTMANAGER))
def test_every_alertmanager_file_gives_one_signal_per_alert_with_actions(alert_token, name):
    response = _alert((ROOT / "alertmanager" / name).read_bytes(), alert_token)
    assert response.status_code == 202, response.content
    assert len(response.json()["accepted"]) == len(ALERTMANAGER[name])
    signals = Signal.objects.order_by("context__environment")
    got = [
        (s.event_type, s.severity, s.actor_id, {k: v for k, v in s.context.items() if k == "environment"})
        for s in signals
    ]
    assert sorted(got, key=str) == sorted(ALERTMANAGER[name], key=str)
    assert all(s.tenant_id == "acme" and s.source == "alertmanager" for s in signals)
    # the first firing alert of each group reaches the actor (the second cools down)
    assert Decision.objects.filter(actions__isnull=False).exists()


def test_a_resent_alert_group_is_not_stored_twice(alert_token):
    body = (ROOT / "alertmanager" / "prometheus-webhook-dingtalk.PlaygroundDemoAlert.json").read_bytes()
    _alert(body, alert_token)
    again = _alert(body, alert_token).json()
    assert again["accepted"] == [] and len(again["duplicates"]) == 2
    assert Signal.objects.count() == 2


def test_resolved_alerts_are_signals_too(alert_token):
    payload = json.loads((ROOT / "alertmanager" / "prometheus-msteams.prom_post_request.json").read_bytes())
    payload["status"] = "resolved"
    _alert(json.dumps(payload).encode(), alert_token)
    assert Signal.objects.get().event_type == "incident.resolved"


def test_alertmanager_needs_its_token(alert_token):
    body = (ROOT / "alertmanager" / "prometheus-msteams.prom_post_request.json").read_bytes()
    assert _alert(body, None).status_code == 401
    assert _alert(body, "not-the-token").status_code == 401
    jwt_like = APIClient().post(
        "/v1/mmm/webhooks/alertmanager",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {alert_token}",
    )
    assert jwt_like.status_code == 401
    assert not Signal.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"version": "2", "alerts": []}, "version"), ({"version": "4", "alerts": {}}, "alerts"), ([1], "body")],
)
def test_alertmanager_body_errors_name_the_field(alert_token, body, field):
    response = _alert(json.dumps(body).encode(), alert_token)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
