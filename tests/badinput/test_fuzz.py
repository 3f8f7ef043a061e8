"""Property-based fuzzing of every operation of the OpenAPI document (issue item 10).

schemathesis derives requests from ``/v1/mmm/openapi.json`` (examples, coverage, fuzzing and
stateful phases; valid and invalid data) and runs every check it has (the CLI's ``--checks all``):
no answer >= 500, every status code and body documented, invalid data refused, valid data
accepted, authentication enforced. The requests go over HTTP to the real Django application.

What JSON Schema cannot state is told to schemathesis here, and only that: strings never carry
NUL characters (PostgreSQL refuses them; ``tests/badinput/test_malformed_json.py`` covers them),
times are relative to the clock, and some operations check content against stored state or a
language (CEL, templates, time zones), where a schema-valid body may still earn its 400.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from schemathesis.engine import events
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from mmm_project.auth.principal import SCOPES
from mmm_project.auth.tokens import mint_token
from tests.badinput.server import CountingApp, serving

MIN_REQUESTS = 5_000
# Examples per operation and generation mode: with 42 operations, about 6,000 requests.
MAX_EXAMPLES = 100
SEED = 17  # the same requests on every run; change it to explore others
MAX_SECONDS = 600  # pytest's bound for the whole run

# Operations whose schema-valid bodies are checked further against stored state (ids of this
# tenant, an action of this decision) or a language (CEL, Jinja templates, IANA zones, routes):
# there a 400 naming the field is a correct answer to a schema-valid request.
CONTENT_CHECKED = (
    "POST /v1/mmm/playbooks",
    "PUT /v1/mmm/playbooks/{playbook_id}",
    "POST /v1/mmm/playbooks/dry-run",
    "POST /v1/mmm/experiments",
    "PUT /v1/mmm/experiments/{experiment_id}",
    "POST /v1/mmm/decisions/{decision_id}/outcomes",
    "PUT /v1/mmm/tenants/{tenant_id}/policy",
    "POST /v1/mmm/webhooks/endpoints",
    "POST /v1/mmm/signals",  # a free-form body: envelopes or CloudEvents, one or a batch
    "POST /v1/mmm/webhooks/alertmanager",  # the notification format is the sender's
    "POST /v1/mmm/webhooks/github",  # the event's format is GitHub's; 415 without a JSON type
    # tree sizes are bounded by the receipt log's size at the time, which a schema cannot state
    "GET /v1/mmm/receipts/log/{tenant_id}/proof/inclusion",
    "GET /v1/mmm/receipts/log/{tenant_id}/proof/consistency",
)
ACCEPTED_ANSWERS = ["2xx", "400", "401", "403", "404", "409", "415"]


def _configuration(token: str) -> schemathesis.Config:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "operations": [
                {
                    "include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_ANSWERS}},
                }
                for name in CONTENT_CHECKED
            ],
        }
    )
    config.cache.enabled = False  # every run starts from the schema alone
    project = config.projects.override
    # One worker: the embedded default's SQLite test database takes one writer at a time.
    project.update(headers={"Authorization": f"Bearer {token}"}, workers=1)
    project.checks.update(included_check_names=["all"])
    project.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, no_shrink=True, allow_x00=False)
    return config


def _within_the_clock(value: Any) -> Any:
    """Move a generated ``ts`` in the future to now and a snooze ``until`` in the past to
    tomorrow: the API bounds both by the clock, which a schema cannot state."""
    if isinstance(value, list):
        return [_within_the_clock(item) for item in value]
    if not isinstance(value, dict):
        return value
    now = timezone.now()
    out = {key: _within_the_clock(item) for key, item in value.items()}
    for key, keep in (("ts", lambda t: t <= now), ("until", lambda t: t > now)):
        try:
            moment = parse_datetime(out[key]) if isinstance(out.get(key), str) else None
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None and not keep(moment):
            out[key] = (now if key == "ts" else now + timedelta(days=1)).isoformat()
    return out


def _clock_hook(context, case, kwargs) -> None:
    case.body = _within_the_clock(case.body)
    # The metrics period runs forwards, which a schema cannot state either.
    query = case.query or {}
    try:
        start, end = (parse_datetime(query.get(name) or "") for name in ("start_date", "end_date"))
    except (TypeError, ValueError):
        return
    if start and end and start.tzinfo and end.tzinfo and start >= end:
        query["start_date"] = (end - timedelta(days=1)).isoformat()


def _failures(event: events.EngineEvent) -> list[str]:
    """One line per failed check of a finished scenario, with the request and the answer."""
    if isinstance(event, events.NonFatalError | events.FatalError):
        return [f"engine error: {event!r}"[:2000]]
    if not isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
        return []
    lines = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            interaction = event.recorder.interactions.get(case_id)
            request = response = ""
            if interaction is not None:
                body = (interaction.request.body or b"")[:300]
                request = f"{interaction.request.method} {interaction.request.uri} {body!r}"
                if interaction.response is not None:
                    response = f"{interaction.response.status_code} {interaction.response.content[:300]!r}"
            label = f"{event.recorder.label}: {check.name}: {failure.title}"
            lines.append(f"{label}\n  {failure.message}\n  {request}\n  -> {response}")
    return lines


@pytest.mark.timeout(MAX_SECONDS)
@pytest.mark.django_db(transaction=True)
def test_every_operation_passes_every_check():
    # given the application served over HTTP and an admin token of the fuzzed tenant
    token = mint_token(
        tenant_id="fuzz",
        actor_id="fuzz-admin",
        actor_type="human",
        roles=["tenant_admin"],
        scopes=SCOPES,
        ttl_seconds=3600,
    )
    app = CountingApp()
    failures: list[str] = []

    # when schemathesis runs every phase and every check on every operation
    started = time.monotonic()
    with serving(app) as base_url:
        schema = schemathesis.openapi.from_url(
            f"{base_url}/v1/mmm/openapi.json", config=_configuration(token)
        )
        hook = schemathesis.hook("before_call")(_clock_hook)
        try:
            for event in schemathesis.engine.from_schema(schema).execute():
                failures.extend(_failures(event))
        finally:
            GLOBAL_HOOK_DISPATCHER.unregister(hook)
    print(
        f"\nschemathesis: {app.requests} requests in {time.monotonic() - started:.0f} s, "
        f"{app.server_errors} answers >= 500, {len(failures)} failed checks; "
        f"by status {dict(sorted(app.statuses.items()))}"
    )

    # then enough requests were made, none answered >= 500 and every check passed
    first: dict[str, str] = {}
    for failure in failures:
        first.setdefault(failure.split("\n")[0], failure)
    assert not failures, f"{len(first)} distinct failures:\n" + "\n".join(first.values())
    assert app.server_errors == 0
    assert app.requests >= MIN_REQUESTS
