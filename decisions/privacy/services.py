"""Forgetting an actor (spec NFR-3 actor-level deletion, steps 1-4; PR-MMM-02).

``actor_deletion_request`` stores a request (API, Data Governance broker topic, command) and
enqueues ``privacy.delete``; ``actor_deletion_run`` does one bounded batch per table, each in its
own short transaction, and says whether more is left (the task re-enqueues itself; beat's
``privacy.sweep`` re-enqueues unfinished requests). It:

1. deletes the actor's preferences and snoozes, and drops their cached copy;
2. anonymises ``actor_id`` to ``deleted-<hex>`` in signals, decisions (and the actor part of
   their contexts), outcomes and dual-channel approvals, except rows on legal hold;
3. redacts the actor id from receipts written before pseudonyms (``Receipt.redacted_at``) after
   checking their signature; newer receipts hold only a pseudonym and are left as they are;
4. clears the actor's fatigue counters and cool-downs in Redis and cached recent signals;
5. destroys the actor's pseudonym key (crypto-shredding): no receipt links to the actor any more;
6. writes one signed deletion receipt with counts only.

Rows on legal hold are counted in ``held`` and the request stays ``partially_completed`` (with the
actor id, to finish later) until the hold is lifted. A second request for the same actor finds
nothing left and completes at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import models
from django.utils import timezone

from decisions.fatigue_store import fatigue_store
from decisions.models import Decision, DualChannelApproval, Outcome, Signal
from decisions.privacy.models import ActorDeletionRequest, DeletionStatus
from mmm_project.background.queueing import enqueue_after_commit
from mmm_project.errors import ApplicationError
from mmm_project.privacy import actor_ref
from mmm_project.residency import tenant_atomic
from preferences.models import ActorPreferences
from preferences.selectors import preferences_cache_key
from receipts.documents import deletion_body
from receipts.models import Receipt
from receipts.pseudonyms import actor_key_destroy
from receipts.services import receipt_create, receipt_document
from receipts.signing import verify_document

logger = logging.getLogger(__name__)

# Rows per table per task run: an indexed UPDATE of 1,000 rows takes tens of milliseconds on
# PostgreSQL here, so a run stays far inside the task's soft time limit (60 s).
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Anonymised:
    """A table whose ``fields`` name the actor; ``held`` rows (legal hold) are left alone."""

    name: str
    model: type[models.Model]
    fields: tuple[str, ...]
    has_hold: bool = True
    rewrite: Callable[[Any, str, str], None] | None = None  # extra per-row change (contexts)


def _decision_context(decision: Any, actor_id: str, anonymous_id: str) -> None:
    """Strip actor-specific metadata from a decision's stored context (NFR-3)."""
    context = dict(decision.context or {})
    actor = dict(context.get("actor") or {})
    if actor:
        context["actor"] = {"id": anonymous_id, "type": actor.get("type", ""), "roles": []}
    decision.context = context


TABLES = (
    Anonymised("signals", Signal, ("actor_id",)),
    Anonymised("decisions", Decision, ("actor_id",), rewrite=_decision_context),
    Anonymised("outcomes", Outcome, ("actor_id",)),
    Anonymised("approvals", DualChannelApproval, ("actor_id", "approver_id", "rejected_by"), has_hold=False),
)


def actor_deletion_request(*, tenant_id: str, actor_id: str, requested_via: str) -> ActorDeletionRequest:
    """Store a deletion request for ``actor_id`` of ``tenant_id`` and enqueue its processing.

    Returns the request (``pending``).

    Raises:
        ApplicationError: ``VALIDATION_ERROR`` (400, field ``actor_id``) for a blank actor id.
    """
    if not actor_id.strip():
        raise ApplicationError(
            "VALIDATION_ERROR", "The actor id is blank.", fields={"actor_id": ["must not be blank"]}
        )
    with tenant_atomic():
        request = ActorDeletionRequest.objects.create(
            tenant_id=tenant_id,
            actor_id=actor_id,
            anonymous_id=f"deleted-{secrets.token_hex(8)}",
            requested_via=requested_via[:64],
        )
        enqueue_after_commit("privacy.delete", [request.pk], from_request=False, run_eagerly=True)
    logger.info(
        "actor deletion requested", extra={"tenant_id": tenant_id, "deletion_request_id": str(request.pk)}
    )
    return request


def _add(counter: dict[str, int], name: str, n: int) -> None:
    if n:
        counter[name] = counter.get(name, 0) + n


def _anonymise_batch(table: Anonymised, request: ActorDeletionRequest, batch_size: int) -> int:
    rows = 0
    for field in table.fields:
        queryset = table.model.objects.filter(tenant_id=request.tenant_id, **{field: request.actor_id})
        if table.has_hold:
            queryset = queryset.filter(legal_hold=False)
        with tenant_atomic():
            batch = list(queryset.select_for_update(skip_locked=True)[:batch_size])
            for row in batch:
                if table.rewrite is not None:
                    table.rewrite(row, request.actor_id, request.anonymous_id)
                setattr(row, field, request.anonymous_id)
            update = [field, *(["context"] if table.rewrite is not None else [])]
            table.model.objects.bulk_update(batch, update)
        rows += len(batch)
    return rows


def _redact_legacy_receipts(request: ActorDeletionRequest, batch_size: int) -> int:
    """Receipts from before pseudonyms name the actor: verify each, then replace the id."""
    queryset = Receipt.objects.filter(
        tenant_id=request.tenant_id, payload__actor_id=request.actor_id, legal_hold=False
    )
    with tenant_atomic():
        batch = list(queryset.select_for_update(skip_locked=True)[:batch_size])
        for receipt in batch:
            if not verify_document(receipt_document(receipt)).valid:
                logger.warning(
                    "legacy receipt did not verify before redaction", extra={"receipt_id": str(receipt.pk)}
                )
            receipt.payload = {**receipt.payload, "actor_id": request.anonymous_id}
            receipt.redacted_at = timezone.now()
        Receipt.objects.bulk_update(batch, ["payload", "redacted_at"])
    return len(batch)


def _held(request: ActorDeletionRequest) -> dict[str, int]:
    held: dict[str, int] = {}
    for table in TABLES:
        if table.has_hold:
            _add(
                held,
                table.name,
                table.model.objects.filter(
                    tenant_id=request.tenant_id, actor_id=request.actor_id, legal_hold=True
                ).count(),
            )
    _add(
        held,
        "receipts",
        Receipt.objects.filter(
            tenant_id=request.tenant_id, payload__actor_id=request.actor_id, legal_hold=True
        ).count(),
    )
    return held


def _forget_caches(tenant_id: str, actor_id: str) -> int:
    """Fatigue counters, cool-downs, cached preferences and recent signals; return keys dropped."""
    ref = actor_ref(tenant_id, actor_id)
    cache.delete_many([preferences_cache_key(tenant_id, actor_id), f"ubi:recent:{tenant_id}:{ref}"])
    return fatigue_store().forget(tenant_id=tenant_id, actor_ref=ref)


def actor_deletion_run(*, request_id: str, batch_size: int = BATCH_SIZE) -> bool:
    """One batch of a deletion request; True while more is left (re-enqueue), False when done or
    waiting on a legal hold. Idempotent: rows already anonymised are not matched again."""
    request = (
        ActorDeletionRequest.objects.filter(pk=request_id).exclude(status=DeletionStatus.COMPLETED).first()
    )
    if request is None or not request.actor_id:
        return False
    counts = dict(request.counts)
    more = False
    deleted, _ = ActorPreferences.objects.filter(
        tenant_id=request.tenant_id, actor_id=request.actor_id
    ).delete()
    _add(counts, "preferences", deleted)
    for table in TABLES:
        rows = _anonymise_batch(table, request, batch_size)
        _add(counts, table.name, rows)
        more = more or rows >= batch_size
    redacted = _redact_legacy_receipts(request, batch_size)
    _add(counts, "legacy_receipts_redacted", redacted)
    more = more or redacted >= batch_size
    if more:
        ActorDeletionRequest.objects.filter(pk=request.pk).update(counts=counts, updated_at=timezone.now())
        return True
    _add(counts, "cache_keys", _forget_caches(request.tenant_id, request.actor_id))
    held = _held(request)
    with tenant_atomic():
        _add(
            counts,
            "pseudonym_keys",
            actor_key_destroy(tenant_id=request.tenant_id, actor_id=request.actor_id),
        )
        if held:
            ActorDeletionRequest.objects.filter(pk=request.pk).update(
                counts=counts, held=held, status=DeletionStatus.PARTIALLY_COMPLETED, updated_at=timezone.now()
            )
        else:
            now = timezone.now()
            receipt_create(
                build=lambda rid: deletion_body(
                    receipt_id=rid,
                    tenant_id=request.tenant_id,
                    reason="actor_deletion",
                    counts=counts,
                    now=now,
                )
            )
            ActorDeletionRequest.objects.filter(pk=request.pk).update(
                actor_id="",
                counts=counts,
                held={},
                status=DeletionStatus.COMPLETED,
                updated_at=now,
                completed_at=now,
            )
    logger.info(
        "actor deletion batch done",
        extra={
            "tenant_id": request.tenant_id,
            "deletion_request_id": str(request.pk),
            "held": sum(held.values()),
        },
    )
    return False


def deletion_requests_sweep() -> int:
    """Re-enqueue unfinished requests (a lost task, or a legal hold that may have been lifted)."""
    ids = list(
        ActorDeletionRequest.objects.exclude(status=DeletionStatus.COMPLETED).values_list("pk", flat=True)[
            :100
        ]
    )
    enqueue_after_commit("privacy.delete", ids, from_request=False, run_eagerly=True)
    return len(ids)
