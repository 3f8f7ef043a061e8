"""LLM Gateway & Safety client (spec 12.5, 15.4, FR-5, NFR-4): ``POST /v1/llm/generate``.

Timeout ``LLM_GATEWAY_TIMEOUT_SECONDS`` (3.0 s); breaker 5 failures / 60 s. Called only from the
``llm.enrich`` task, never on the decide path. The answer carries ``content``, ``safety``
{``status`` pass|warn|fail, ``risk_flags``, ``redaction_summary``}, ``usage``
{``total_tokens``, ``cost``, and ``input_tokens``/``output_tokens`` or their OpenAI names
``prompt_tokens``/``completion_tokens`` when given} and ``model`` (or ``model_id``) when given:
the provenance enrichment receipts record (NFR-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mmm_project.clients import PeerUnavailable
from mmm_project.clients.base import PeerClient

client = PeerClient(
    "llm_gateway", url_setting="LLM_GATEWAY_URL", timeout_setting="LLM_GATEWAY_TIMEOUT_SECONDS"
)

SAFETY_STATUSES = ("pass", "warn", "fail")


@dataclass(frozen=True)
class Generation:
    content: str
    safety_status: str
    risk_flags: list[str]
    redaction_summary: dict[str, Any]
    tokens: int
    cost: Decimal
    model_id: str = ""  # "" when the gateway does not say
    input_tokens: int | None = None
    output_tokens: int | None = None


def _count(usage: dict[str, Any], *names: str) -> int | None:
    for name in names:
        if usage.get(name) is not None:
            return int(usage[name])
    return None


def generate(
    *, prompt: str, tenant_id: str, actor_id: str, actor_type: str, system_prompt_id: str
) -> Generation:
    """Ask for content; the gateway runs its safety pipeline on it.

    Raises:
        PeerUnavailable: unreachable, 5xx, breaker open, or an answer without a safety verdict
            (never treated as safe).
        PeerRejected: another 4xx.
    """
    body = client.call(
        "POST",
        "/v1/llm/generate",
        json={
            "prompt": prompt,
            "tenant_id": tenant_id,
            "actor_id": actor_id,
            "actor_type": actor_type,
            "operation_type": "completion",
            "system_prompt_id": system_prompt_id,
            "dry_run": False,
        },
    )
    try:
        safety = body["safety"]
        status = safety["status"]
        if status not in SAFETY_STATUSES or not isinstance(body.get("content", ""), str):
            raise ValueError(status)
        usage = body.get("usage") or {}
        return Generation(
            content=body.get("content", ""),
            safety_status=status,
            risk_flags=[str(flag) for flag in safety.get("risk_flags", [])],
            redaction_summary=dict(safety.get("redaction_summary") or {}),
            tokens=int(usage.get("total_tokens", 0)),
            cost=Decimal(str(usage.get("cost", 0))),
            model_id=str(body.get("model") or body.get("model_id") or "")[:200],
            input_tokens=_count(usage, "input_tokens", "prompt_tokens"),
            output_tokens=_count(usage, "output_tokens", "completion_tokens"),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise PeerUnavailable("llm_gateway answered without a usable safety verdict") from exc
