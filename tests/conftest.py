"""Shared fixtures: bearer tokens, an API client, the Celery mode, a clean cache per test."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from decisions.fatigue_store import _local_store as _local_fatigue_store
from mmm_project import events
from mmm_project.auth.principal import SCOPES
from mmm_project.auth.tokens import mint_token
from mmm_project.background import queueing
from mmm_project.caching import local_caches_clear
from mmm_project.celery import app as celery_app
from mmm_project.clients import alerting, eris  # noqa: F401 - registers their clients
from mmm_project.clients import base as peer_clients
from receipts import signing as receipt_signing


@pytest.fixture(scope="session", autouse=True)
def _local_state_dir(tmp_path_factory):
    """Generated local keys go to a throwaway folder, not the checkout's ./var; fast hashing."""
    with override_settings(
        LOCAL_STATE_DIR=tmp_path_factory.mktemp("state"),
        # Admin tests create superusers; the production hasher is deliberately slow.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        yield


@pytest.fixture(autouse=True)
def _eager_celery():
    """Run tasks in-process unless a test starts a real worker (see tests/integration)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty cache, no fatigue counters (Redis or in-process), and no
    memory of receipt keys stored in a database that transactional tests flush."""
    cache.clear()
    _local_fatigue_store.clear()
    receipt_signing._registered.clear()
    local_caches_clear()
    yield
    cache.clear()
    _local_fatigue_store.clear()
    receipt_signing._registered.clear()
    local_caches_clear()


@pytest.fixture(autouse=True)
def _closed_breakers():
    """Circuit breakers are per process: every test starts with them closed."""
    for breaker in (queueing.publish_breaker, events.publish_breaker):
        breaker.close()
    for client in peer_clients.REGISTRY.values():
        client.reset()
    yield
    for breaker in (queueing.publish_breaker, events.publish_breaker):
        breaker.close()
    for client in peer_clients.REGISTRY.values():
        client.reset()


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token() -> TokenFactory:
    """Mint a token with the embedded default's local key: ``make_token(tenant_id="t1", ...)``."""

    def _make(
        *,
        tenant_id: str = "tenant-a",
        actor_id: str = "actor-1",
        actor_type: str = "human",
        roles: Iterable[str] = (),
        scopes: Iterable[str] = SCOPES,
        ttl_seconds: int = 600,
    ) -> str:
        return mint_token(
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_type=actor_type,
            roles=roles,
            scopes=scopes,
            ttl_seconds=ttl_seconds,
        )

    return _make


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(make_token) -> Callable[..., APIClient]:
    """An APIClient carrying a bearer token for the given claims."""

    def _client(**claims) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(**claims)}")
        return client

    return _client


@pytest.fixture(autouse=True)
def _committing(django_capture_on_commit_callbacks, monkeypatch):
    """``tests.ingest.commit.after_commit(fn, ...)`` runs the on-commit work ``fn`` registered,
    as the real commit would (tests run inside a transaction that never commits)."""
    import tests.ingest.commit as commit

    monkeypatch.setattr(commit, "capture", django_capture_on_commit_callbacks)
    yield


@pytest.fixture(autouse=True)
def _generous_latency_budget(settings):
    """Tests do not measure speed: a loaded machine must not push a decide past its NFR-1 latency
    budget and drop its actions (the budget's own tests set a budget of their own; processes the
    suite starts get GENEROUS_LATENCY_BUDGET in their environment)."""
    settings.DECIDE_LATENCY_BUDGET_SECONDS = {"ide": 60.0, "ci": 60.0}
