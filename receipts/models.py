"""Signed receipts: the outbox towards ERIS and, with no ERIS configured, the local ledger (FR-12).

A receipt row is written in the same transaction as what it attests (decision, outcome, admin
change, deletion). ``payload`` is the receipt body as signed; ``signature`` is the Ed25519
signature (base64url) over its RFC 8785 canonical form, made with the key named by ``kid``.
``decision_id`` is a plain column, not a foreign key: receipts outlive decision retention.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class ReceiptKind(models.TextChoices):
    DECISION = "decision", "Decision"
    OUTCOME = "outcome", "Outcome"
    ADMIN_CONFIG = "admin_config", "Admin configuration"
    DELETION = "deletion", "Deletion"


class ReceiptStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    LOCAL = "local", "Local ledger"


OUTBOX_OPEN = models.Q(status__in=[ReceiptStatus.PENDING, ReceiptStatus.SENDING, ReceiptStatus.FAILED])


class Receipt(models.Model):
    """One signed receipt and its delivery state (outbox pattern)."""

    receipt_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    kind = models.CharField(max_length=16, choices=ReceiptKind.choices)
    decision_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField()
    signature = models.CharField(max_length=200)
    kid = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=ReceiptStatus.choices, default=ReceiptStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="Pending: when the sweep sends it next (backoff after failures)."
    )
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    redacted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A receipt from before pseudonyms whose actor was deleted: its actor id was replaced "
        "after its signature verified; the signature covers the original body.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, help_text="Last status change (outbox sweep).")
    leaf_index = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Its entry in the tenant's receipt log (receipts.ledger); empty until appended.",
    )
    leaf_hash = models.BinaryField(
        max_length=32,
        null=True,
        editable=False,
        help_text="SHA-256(0x00 || signed bytes), made when signed: what the log appends.",
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_receipts"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "leaf_index"], name="mmm_receipt_tenant_leaf_uniq"),
        ]
        indexes = [
            # The appender's backlog: receipts not in the log yet (a few seconds' worth).
            models.Index(
                fields=["tenant_id", "created_at"],
                name="mmm_receipt_unlogged",
                condition=models.Q(leaf_index__isnull=True),
            ),
            models.Index(fields=["tenant_id", "created_at"], name="mmm_receipt_tenant_created"),
            # The outbox's: only receipts still to send to ERIS (or failed), not local or sent ones.
            models.Index(
                fields=["status", "updated_at"], name="mmm_receipt_status_updated", condition=OUTBOX_OPEN
            ),
            models.Index(
                fields=["status", "next_attempt_at"], name="mmm_receipt_status_next", condition=OUTBOX_OPEN
            ),
            models.Index(fields=["decision_id"], name="mmm_receipt_decision"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.receipt_id}"


class ReceiptKey(models.Model):
    """A public key receipts were signed with (Ed25519, RFC 8037). Never deleted.

    Every signing key registers itself here on first use, so receipts signed before a rotation
    keep verifying; ``GET /v1/mmm/receipts/keys`` publishes the set as a JWKS.
    """

    kid = models.CharField(max_length=100, primary_key=True)
    public_key = models.CharField(max_length=100, help_text="Raw 32-byte Ed25519 key, base64url.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "mmm_receipt_keys"

    def __str__(self) -> str:
        return self.kid


class ActorKey(models.Model):
    """The random key behind an actor's pseudonym in receipts (NFR-3, PR-MMM-02).

    Receipts never hold an actor id: they hold ``HMAC-SHA-256(key, actor_id)``. Whoever holds this
    table can link a receipt to its actor; deleting the actor deletes the key (crypto-shredding),
    after which every receipt still verifies and none can be linked back. A new key is made on
    first use, so an actor decided on after deletion starts a new, unlinked history.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    actor_id = models.CharField(max_length=255)
    key = models.BinaryField(max_length=32, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_actor_keys"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "actor_id"], name="mmm_actor_key_tenant_actor_uniq"),
        ]

    def __str__(self) -> str:
        return f"key {self.id}"


from receipts.ledger.models import LogNode, ReceiptLog, SignedTreeHead  # noqa: E402, F401  (the app's models)
