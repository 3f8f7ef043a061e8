"""Peer HTTP calls carry the decision's W3C ``traceparent`` (FR-15), also from the thread pool that
asks the decide-path peers in parallel."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from tests.factories import TenantPolicyFactory, mirror_playbook, publish_playbook
from tests.tracing.conftest import by_name, parent_of

pytestmark = pytest.mark.django_db

PEERS = {
    "/v1/ubi/signals/recent": {"signals": []},
    "/v1/data-governance/tenants/tenant-a/config": {"quiet_hours": {"start": 0, "end": 0, "timezone": "UTC"}},
}


def test_peers_asked_in_parallel_receive_the_decisions_traceparent(spans, peer_server, settings, client_for):
    # given UBI and Data Governance (two peers: asked from the pool's threads) on a local server
    seen: dict[str, str | None] = {}

    def answer(body):
        def handle(request):
            seen[request.path] = request.headers.get("traceparent")
            return Response(json.dumps(body), content_type="application/json")

        return handle

    for path, body in PEERS.items():
        peer_server.expect_request(path).respond_with_handler(answer(body))
    settings.UBI_URL = settings.DATA_GOVERNANCE_URL = peer_server.url_for("/").rstrip("/")
    TenantPolicyFactory(tenant_id="tenant-a", quiet_hours_start=0, quiet_hours_end=0, cooldown_minutes=0)
    publish_playbook(mirror_playbook())
    client = client_for(tenant_id="tenant-a", actor_id="actor-1")
    # when a decision is made
    body = {"tenant_id": "tenant-a", "signal": {"source": "github", "event_type": "ci.check_run.failed"}}
    response = client.post("/v1/mmm/decide", body, format="json")
    assert response.status_code == 200, response.content
    # then each peer got a traceparent naming the decision's trace and its own client span,
    # and that client span hangs under the decision's context step
    finished = spans.get_finished_spans()
    context_step = by_name(spans)["mmm.context"]
    assert set(seen) == set(PEERS)
    for path, traceparent in seen.items():
        assert traceparent is not None, path
        version, trace_id, span_id, _flags = traceparent.split("-")
        assert (version, int(trace_id, 16)) == ("00", context_step.context.trace_id)
        client_span = next(s for s in finished if s.context.span_id == int(span_id, 16))
        assert client_span.attributes.get("http.url", "").endswith(path) or path in str(
            client_span.attributes
        )
        assert parent_of(client_span, finished) is context_step
    assert response.json()["decision"]["degraded_mode"] is False
