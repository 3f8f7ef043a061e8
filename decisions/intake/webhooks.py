"""Per-tenant webhook endpoints: secrets, tokens and routes (FR-1 intake from GitHub, Alertmanager).

A GitHub endpoint holds the HMAC secret GitHub signs deliveries with (encrypted at rest: the
engine must recompute the HMAC) and routes (``installation:<id>``, ``owner:<id>``, ``org:<id>``)
that name which deliveries belong to the tenant. An Alertmanager endpoint holds a bearer token,
stored only as its SHA-256. Secrets are generated here, shown once at creation or rotation, and
never logged or stored in receipts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from django.db import IntegrityError

from decisions.intake.models import WebhookEndpoint, WebhookProvider, WebhookRoute
from mmm_project import secret_box
from mmm_project.errors import ApplicationError
from mmm_project.residency import each_region, region_of, tenant_atomic
from receipts.services import AdminAudit

ROUTE_KEY = re.compile(r"^(installation|owner|org):\d+$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def endpoint_state(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What receipts and the API show of an endpoint: never the secret."""
    return {
        "endpoint_id": str(endpoint.id),
        "provider": endpoint.provider,
        "name": endpoint.name,
        "active": endpoint.active,
        "routes": sorted(endpoint.routes.values_list("key", flat=True)),
    }


ENDPOINT_AUDIT = AdminAudit("webhook_endpoint", endpoint_state)


def _set_secret(endpoint: WebhookEndpoint) -> str:
    secret = secrets.token_urlsafe(32)
    if endpoint.provider == WebhookProvider.GITHUB:
        endpoint.secret_encrypted, endpoint.token_sha256 = secret_box.encrypt(secret), ""
    else:
        endpoint.secret_encrypted, endpoint.token_sha256 = "", _digest(secret)
    return secret


def webhook_endpoint_create(
    *, tenant_id: str, provider: str, name: str, routes: list[str], actor_id: str
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; return it and its secret (GitHub) or token (Alertmanager), shown once.

    Raises:
        ApplicationError: ``VALIDATION_ERROR`` for a malformed route or routes on Alertmanager;
            ``CONFLICT`` (409) when one of the tenant's endpoints already has the route.
    """
    bad = [key for key in routes if not ROUTE_KEY.match(key)]
    if bad:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "Invalid routes.",
            fields={"routes": [f"not installation:<id>, owner:<id> or org:<id>: {', '.join(bad)}"]},
        )
    if provider != WebhookProvider.GITHUB and routes:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "Only GitHub endpoints take routes.",
            fields={"routes": ["only for github endpoints"]},
        )
    try:
        with tenant_atomic():
            endpoint = WebhookEndpoint(tenant_id=tenant_id, provider=provider, name=name)
            secret = _set_secret(endpoint)
            endpoint.save()
            WebhookRoute.objects.bulk_create(
                WebhookRoute(tenant_id=tenant_id, endpoint=endpoint, key=key) for key in dict.fromkeys(routes)
            )
            ENDPOINT_AUDIT.record(endpoint, actor_id=actor_id, operation="create", before=None)
    except IntegrityError as exc:
        raise ApplicationError(
            "CONFLICT",
            "A route is already registered for one of your webhook endpoints.",
            status_code=409,
            fields={"routes": ["already registered"]},
        ) from exc
    return endpoint, secret


def webhook_endpoint_rotate(*, endpoint: WebhookEndpoint, actor_id: str) -> str:
    """Replace the secret or token; the old one stops working at once. Returns the new one."""
    with tenant_atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = endpoint_state(locked)
        secret = _set_secret(locked)
        locked.save()
        ENDPOINT_AUDIT.record(locked, actor_id=actor_id, operation="rotate_secret", before=before)
    return secret


def webhook_endpoint_deactivate(*, endpoint: WebhookEndpoint, actor_id: str) -> WebhookEndpoint:
    with tenant_atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = endpoint_state(locked)
        locked.active = False
        locked.save()
        ENDPOINT_AUDIT.record(locked, actor_id=actor_id, operation="deactivate", before=before)
    return locked


def github_endpoints_for(keys: list[str]) -> list[WebhookEndpoint]:
    """The active GitHub endpoints, of any tenant, with a route among ``keys`` (most specific key
    first): the candidates a delivery's signature is checked against.

    A delivery names no tenant: every region is looked in (NFR-3), and a region's rows count only
    for the tenants pinned to it."""
    routes = [
        route
        for alias in each_region()
        for route in WebhookRoute.objects.filter(
            key__in=keys, endpoint__active=True, endpoint__provider=WebhookProvider.GITHUB
        ).select_related("endpoint")
        if region_of(route.tenant_id) == alias
    ]
    rank = {key: index for index, key in enumerate(keys)}
    return [route.endpoint for route in sorted(routes, key=lambda route: rank[route.key])]


def github_signature_valid(endpoint: WebhookEndpoint, body: bytes, header: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``, compared in constant time."""
    secret = secret_box.decrypt(endpoint.secret_encrypted)
    if secret is None or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def github_sign(secret: str, body: bytes) -> str:
    """The header value GitHub would send for ``body`` (used by replay and tests)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alertmanager_endpoint_for(token: str) -> WebhookEndpoint | None:
    """The active Alertmanager endpoint whose token this is (looked up by SHA-256), in whichever
    region its tenant is pinned to (NFR-3)."""
    digest = _digest(token)
    for alias in each_region():
        endpoint = WebhookEndpoint.objects.filter(
            provider=WebhookProvider.ALERTMANAGER, token_sha256=digest, active=True
        ).first()
        if endpoint is not None and region_of(endpoint.tenant_id) == alias:
            return endpoint
    return None


def webhook_endpoints_for_replay(*, tenant_id: str, route_keys: list[str], actor_id: str) -> tuple[str, str]:
    """Make sure the tenant has a GitHub endpoint owning ``route_keys`` and an Alertmanager one.

    Returns ``(github secret, alertmanager token)``: secrets cannot be read back, so existing
    endpoints get new ones (rotated, with receipts). For replays and the demo.
    """
    github = (
        WebhookEndpoint.objects.for_tenant(tenant_id)
        .filter(provider=WebhookProvider.GITHUB, active=True)
        .first()
    )
    if github is None:
        github, github_secret = webhook_endpoint_create(
            tenant_id=tenant_id, provider=WebhookProvider.GITHUB, name="replay", routes=[], actor_id=actor_id
        )
    else:
        github_secret = webhook_endpoint_rotate(endpoint=github, actor_id=actor_id)
    taken = set(
        WebhookRoute.objects.for_tenant(tenant_id).filter(key__in=route_keys).values_list("key", flat=True)
    )
    WebhookRoute.objects.bulk_create(
        WebhookRoute(tenant_id=tenant_id, endpoint=github, key=key) for key in route_keys if key not in taken
    )
    alertmanager = (
        WebhookEndpoint.objects.for_tenant(tenant_id)
        .filter(provider=WebhookProvider.ALERTMANAGER, active=True)
        .first()
    )
    if alertmanager is None:
        alertmanager, token = webhook_endpoint_create(
            tenant_id=tenant_id,
            provider=WebhookProvider.ALERTMANAGER,
            name="replay",
            routes=[],
            actor_id=actor_id,
        )
    else:
        token = webhook_endpoint_rotate(endpoint=alertmanager, actor_id=actor_id)
    return github_secret, token
