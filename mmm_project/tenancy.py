"""Tenant scoping, written once (NFR-5).

Every tenant-owned model uses ``TenantQuerySet`` as its manager; every selector starts from
``Model.objects.for_tenant(tenant_id)``; single rows are fetched with ``get_for_tenant`` so that
another tenant's id is indistinguishable from a missing one: 404, never 403.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.db import models

from mmm_project.errors import NotFound

M = TypeVar("M", bound=models.Model)

TENANT_ID_MAX_LENGTH = 128


class TenantQuerySet(models.QuerySet[M]):
    """QuerySet with ``for_tenant``; an empty or missing tenant id matches nothing."""

    def for_tenant(self, tenant_id: str) -> TenantQuerySet[M]:
        if not tenant_id:
            return self.none()
        return self.filter(tenant_id=tenant_id)


def tenant_id_field(**kwargs: object) -> models.CharField:
    """The ``tenant_id`` column every tenant-owned table carries (an opaque IAM tenant id)."""
    return models.CharField(max_length=TENANT_ID_MAX_LENGTH, **kwargs)


def parse_uuid(value: object) -> uuid.UUID | None:
    """Return ``value`` as a UUID, or None when it is not one (so lookups 404 instead of 500)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def get_for_tenant(queryset: TenantQuerySet[M], *, tenant_id: str, pk: object, resource: str) -> M:
    """Fetch one row of ``tenant_id`` by primary key.

    Raises:
        NotFound: no such row for this tenant, including rows of other tenants and ids that are
            not UUIDs (404, NFR-5).
    """
    key = parse_uuid(pk)
    if key is None:
        raise NotFound(resource)
    try:
        return queryset.for_tenant(tenant_id).get(pk=key)
    except queryset.model.DoesNotExist as exc:
        raise NotFound(resource) from exc
