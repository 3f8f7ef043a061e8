"""Tables of the receipt ledger: each tenant's log head, its tree nodes, and its signed tree heads."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mmm_project.tenancy import TenantQuerySet, tenant_id_field


class ReceiptLog(models.Model):
    """A tenant's log head: its size, root and frontier. The appender locks this row (one writer
    per tenant); the frontier (right-edge subtree roots, ``tree.CompactRange``) makes an append
    O(log n) without reading earlier leaves."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field(unique=True)
    size = models.PositiveBigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32)
    frontier = models.BinaryField(help_text="Right-edge subtree roots, 32 bytes each, largest first.")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_receipt_logs"

    def __str__(self) -> str:
        return f"log {self.tenant_id} ({self.size})"


class LogNode(models.Model):
    """A perfect subtree of a tenant's log: level 0 are the leaf hashes, ``(level, index)`` covers
    leaves ``[index * 2**level, (index + 1) * 2**level)``. Written once, never changed; proofs
    read only the few they need."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_receipt_log_nodes"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "level", "index"], name="mmm_log_node_uniq"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class SignedTreeHead(models.Model):
    """A signed tree head (size, root, time, Ed25519 signature) and its delivery to ERIS (outbox)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = tenant_id_field()
    tree_size = models.PositiveBigIntegerField()
    payload = models.JSONField(help_text="The signed head body (root hash in hex).")
    signature = models.CharField(max_length=200)
    kid = models.CharField(max_length=100)
    status = models.CharField(max_length=16, default="local")  # receipts.models.ReceiptStatus values
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "mmm_receipt_tree_heads"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "tree_size"], name="mmm_tree_head_tenant_size_uniq"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="mmm_tree_head_status_next")]

    def __str__(self) -> str:
        return f"head {self.tenant_id} ({self.tree_size})"
