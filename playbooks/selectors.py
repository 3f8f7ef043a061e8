"""Reads of playbooks, always scoped to one tenant (NFR-5)."""

from __future__ import annotations

from django.db.models import QuerySet

from mmm_project.tenancy import get_for_tenant
from playbooks.models import Playbook, PlaybookVersion


def playbook_list(*, tenant_id: str, status: str | None = None) -> QuerySet[Playbook]:
    """Return the tenant's playbooks by name, optionally one status (uses ``tenant_id, status``)."""
    queryset = Playbook.objects.for_tenant(tenant_id)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by("name")


def playbook_get(*, tenant_id: str, playbook_id: object) -> Playbook:
    """Return one playbook of ``tenant_id``.

    Raises:
        NotFound: unknown id, malformed id, or a playbook of another tenant (404).
    """
    return get_for_tenant(Playbook.objects.all(), tenant_id=tenant_id, pk=playbook_id, resource="Playbook")


def playbook_latest_versions(*, tenant_id: str, playbooks: list[Playbook]) -> dict[object, PlaybookVersion]:
    """Return ``{playbook_id: latest PlaybookVersion}`` for the given playbooks in one query."""
    wanted = {(p.id, p.latest_version) for p in playbooks}
    versions = PlaybookVersion.objects.for_tenant(tenant_id).filter(playbook_id__in=[p.id for p in playbooks])
    return {v.playbook_id: v for v in versions if (v.playbook_id, v.version) in wanted}
