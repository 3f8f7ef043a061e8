"""Replay of recorded webhook deliveries and events through the real HTTP endpoints.

A folder laid out like ``fixtures/real-input/`` (``github/<event>/*.json``,
``alertmanager/*.json``, ``cloudevents/*.json``) is sent exactly as the producers would send
it: the file's bytes unchanged, GitHub's headers with an HMAC-SHA256 signature, Alertmanager's
bearer token, CloudEvents with their content type. Delivery ids derive from the file path, so a
second replay is recognised as redelivery. In-process by default (Django's test client, the full
middleware stack); ``base_url`` sends over the network instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.test import Client

from decisions.intake.adapters.github import tenant_keys
from decisions.intake.webhooks import github_sign

NAMESPACE = uuid.UUID("6f1c1f9e-8a4b-4c55-9a44-6d6d6d6d6d6d")


@dataclass
class Recording:
    """One recorded request: a webhook delivery or a CloudEvents body, as a file."""

    path: Path
    kind: str  # github | alertmanager | cloudevents
    event: str  # GitHub event, or the kind
    body: bytes


@dataclass
class Sent:
    recording: Recording
    status: int
    response: dict[str, Any] = field(default_factory=dict)


def recordings(root: Path) -> Iterator[Recording]:
    """Every recorded delivery under ``root``, in a stable order; schemas and notes are skipped."""
    for path in sorted((root / "github").glob("*/*.json")):
        yield Recording(path, "github", path.parent.name, path.read_bytes())
    for path in sorted((root / "alertmanager").glob("*.json")):
        yield Recording(path, "alertmanager", "alertmanager", path.read_bytes())
    for path in sorted((root / "cloudevents").glob("*.json")):
        if "schema" not in path.name:
            yield Recording(path, "cloudevents", "cloudevents", path.read_bytes())


def github_route_keys(root: Path) -> list[str]:
    """The installation and owner ids the recorded GitHub deliveries come from."""
    keys: dict[str, None] = {}
    for recording in recordings(root):
        if recording.kind == "github":
            for key in tenant_keys(json.loads(recording.body))[:2]:  # installation, then owner
                keys[key] = None
    return list(keys)


class Sender:
    """Posts deliveries in-process (Django test client) or to ``base_url`` (httpx)."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.client = Client() if not base_url else None
        if self.client is not None and "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    def post(self, path: str, body: bytes, headers: dict[str, str], content_type: str) -> tuple[int, dict]:
        if self.client is not None:
            django_headers = {key: value for key, value in headers.items()}
            response = self.client.post(path, data=body, content_type=content_type, headers=django_headers)
            status, text = response.status_code, response.content
        else:
            response = httpx.post(
                self.base_url + path,
                content=body,
                timeout=10.0,
                headers={**headers, "Content-Type": content_type},
            )
            status, text = response.status_code, response.content
        try:
            return status, json.loads(text) if text else {}
        except ValueError:
            return status, {"raw": text[:200].decode(errors="replace")}


def replay(
    root: Path, *, sender: Sender, github_secret: str, alertmanager_token: str, bearer_token: str
) -> list[Sent]:
    """Send every delivery under ``root``; return each with its HTTP status and answer."""
    results = []
    for recording in recordings(root):
        relative = recording.path.relative_to(root).as_posix()
        if recording.kind == "github":
            headers = {
                "X-GitHub-Event": recording.event,
                "X-GitHub-Delivery": str(uuid.uuid5(NAMESPACE, relative)),
                "X-Hub-Signature-256": github_sign(github_secret, recording.body),
                "User-Agent": "GitHub-Hookshot/replay",
            }
            status, body = sender.post("/v1/mmm/webhooks/github", recording.body, headers, "application/json")
        elif recording.kind == "alertmanager":
            headers = {"Authorization": f"Bearer {alertmanager_token}"}
            status, body = sender.post(
                "/v1/mmm/webhooks/alertmanager", recording.body, headers, "application/json"
            )
        else:
            batch = recording.body.lstrip().startswith(b"[")
            content_type = "application/cloudevents-batch+json" if batch else "application/cloudevents+json"
            headers = {"Authorization": f"Bearer {bearer_token}"}
            status, body = sender.post("/v1/mmm/signals", recording.body, headers, content_type)
        results.append(Sent(recording, status, body))
    return results
