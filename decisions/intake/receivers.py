"""Webhook deliveries into signals (FR-1): GitHub (HMAC-signed) and Alertmanager (bearer token).

The views only read the request; these services authenticate the sender, map the body to FR-1
envelopes (``decisions.intake.adapters``), validate them and store them (``signals_ingest``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from decisions.intake.adapters import github
from decisions.intake.adapters.alertmanager import AlertmanagerBodyError, alerts_to_envelopes
from decisions.intake.envelope import envelope_validate
from decisions.intake.services import signal_reject, signals_ingest
from decisions.intake.webhooks import (
    alertmanager_endpoint_for,
    github_endpoints_for,
    github_signature_valid,
)
from mmm_project.errors import ApplicationError
from mmm_project.parsers import json_loads_strict
from mmm_project.residency import activate_tenant


@dataclass(frozen=True)
class GitHubResult:
    """``status`` is ``accepted``, ``duplicate`` (a redelivery) or ``ignored`` (with ``reason``)."""

    status: str
    signal_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AlertmanagerResult:
    accepted: list[str]
    duplicates: list[str]
    ignored: list[str] = field(default_factory=list)


def _unauthorized(message: str) -> ApplicationError:
    return ApplicationError("UNAUTHENTICATED", message, status_code=401)


def _invalid(field_name: str, message: str) -> ApplicationError:
    return ApplicationError("VALIDATION_ERROR", message, fields={field_name: [message]})


def _first_delivery_of(body: bytes, *, tenant_id: str, signal_id: str) -> str | None:
    """The signal id an identical signed body already arrived under within the de-duplication
    window (``GITHUB_DEDUPE_WINDOW_SECONDS``), if it was another one; else None (remembering it)."""
    key = f"github:body:{tenant_id}:{hashlib.sha256(body).hexdigest()}"
    if cache.add(key, signal_id, timeout=settings.GITHUB_DEDUPE_WINDOW_SECONDS):
        return None
    earlier = cache.get(key)
    return earlier if earlier and earlier != signal_id else None


def github_delivery_ingest(*, body: bytes, event: str, delivery_id: str, signature: str) -> GitHubResult:
    """Verify and store one GitHub delivery (``X-GitHub-Event``, ``X-GitHub-Delivery``,
    ``X-Hub-Signature-256`` over the raw ``body``).

    The tenant is found from the payload's installation, owner or organization id; the signature
    is checked with that tenant's secret (constant time). Mapped events become a signal; others are
    ``ignored`` with the reason (``docs/event-taxonomy.md``). A redelivery (same
    ``X-GitHub-Delivery``) or a replay (the same signed body under a new delivery id, within
    ``GITHUB_DEDUPE_WINDOW_SECONDS``) is a ``duplicate``: stored once.

    Raises:
        ApplicationError: ``UNAUTHENTICATED`` (401) for a missing or wrong signature or an unknown
            sender (nothing stored); ``VALIDATION_ERROR`` (400) for missing headers or a body that
            is not a JSON object; ``MALFORMED_REQUEST`` (400) for a body that is not JSON the
            service can store (``mmm_project.parsers.json_loads_strict``).
    """
    if not signature:
        raise _unauthorized("X-Hub-Signature-256 is required.")
    missing = [
        name for name, value in (("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery_id)) if not value
    ]
    if missing:
        raise ApplicationError(
            "VALIDATION_ERROR",
            "GitHub headers are missing.",
            fields={name: ["is required"] for name in missing},
        )
    payload = json_loads_strict(body)
    if not isinstance(payload, dict):
        raise _invalid("body", "must be a JSON object")
    candidates = github_endpoints_for(github.tenant_keys(payload))
    endpoint = next((e for e in candidates if github_signature_valid(e, body, signature)), None)
    if endpoint is None:
        raise _unauthorized("The signature does not match a registered webhook secret.")
    activate_tenant(endpoint.tenant_id)  # the sender's tenant: the rest happens in its region (NFR-3)
    mapped = github.map_event(event, payload)
    if isinstance(mapped, github.Ignored):
        return GitHubResult("ignored", reason=mapped.reason)
    raw = github.envelope(
        event=event,
        delivery_id=delivery_id,
        payload=payload,
        mapped=mapped,
        tenant_id=endpoint.tenant_id,
        received_at=timezone.now().isoformat(),
    )
    earlier = _first_delivery_of(body, tenant_id=endpoint.tenant_id, signal_id=raw["signal_id"])
    if earlier is not None:
        # The same signed body under another X-GitHub-Delivery (the header is not signed): a replay.
        return GitHubResult("duplicate", signal_id=earlier)
    envelope, errors = envelope_validate(raw)
    if envelope is None:
        signal_reject(
            tenant_id=endpoint.tenant_id,
            channel="webhook:github",
            reason=f"mapped envelope invalid: {errors}",
            message=payload,
        )
        return GitHubResult("ignored", reason="the delivery could not be mapped to a valid signal")
    result = signals_ingest(tenant_id=endpoint.tenant_id, envelopes=[envelope], channel="webhook:github")
    return GitHubResult("accepted" if result.accepted else "duplicate", signal_id=raw["signal_id"])


def alertmanager_notification_ingest(*, authorization: str, body: Any) -> AlertmanagerResult:
    """Store one Alertmanager notification (versions 3 and 4): a signal per alert, firing and
    resolved, de-duplicated by fingerprint (or group key and labels).

    Raises:
        ApplicationError: ``UNAUTHENTICATED`` (401) without a valid ``Bearer`` webhook token;
            ``VALIDATION_ERROR`` (400) naming the field of a body that is not a notification.
    """
    scheme, _, token = authorization.partition(" ")
    endpoint = alertmanager_endpoint_for(token.strip()) if scheme.lower() == "bearer" and token else None
    if endpoint is None:
        raise _unauthorized("A valid Alertmanager webhook token is required.")
    activate_tenant(endpoint.tenant_id)  # the sender's tenant: the rest happens in its region (NFR-3)
    try:
        raw, ignored = alerts_to_envelopes(
            body, tenant_id=endpoint.tenant_id, received_at=timezone.now().isoformat()
        )
    except AlertmanagerBodyError as exc:
        raise _invalid(exc.field, str(exc)) from exc
    envelopes = []
    for index, item in enumerate(raw):
        envelope, _ = envelope_validate(item)
        if envelope is None:
            ignored.append(f"alerts[{index}] could not be mapped to a valid signal")
        else:
            envelopes.append(envelope)
    result = signals_ingest(tenant_id=endpoint.tenant_id, envelopes=envelopes, channel="webhook:alertmanager")
    return AlertmanagerResult(accepted=result.accepted, duplicates=result.duplicates, ignored=ignored)
