"""Playbook writes: create (draft), update (new immutable version), publish, deprecate (FR-3, 11.2).

Saves validate the document with ``playbooks.spec.validate_playbook`` and refuse structural
problems; publishing refuses any problem (CEL, templates, Mirror lint too). Both raise
``ApplicationError("VALIDATION_ERROR", fields={path: [messages]})`` listing every problem.
Every write emits an ``admin_config`` receipt with the before and after state.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import IntegrityError

from mmm_project.errors import ApplicationError
from mmm_project.privacy.secret_scan import redact_secrets
from mmm_project.residency import tenant_atomic
from mmm_project.vocabulary import Severity
from playbooks.models import Playbook, PlaybookStatus, PlaybookTrigger, PlaybookVersion
from playbooks.spec import Problem, validate_playbook
from receipts.services import AdminAudit


def playbook_state(playbook: Playbook) -> dict[str, Any]:
    """The playbook as an admin receipt records it: metadata plus its latest version's content."""
    latest = playbook.versions.filter(version=playbook.latest_version).first()
    state: dict[str, Any] = {
        "playbook_id": str(playbook.id),
        "name": playbook.name,
        "description": playbook.description,
        "owner": playbook.owner,
        "status": playbook.status,
        "latest_version": playbook.latest_version,
        "published_version": playbook.published_version.version if playbook.published_version_id else None,
    }
    if latest is not None:
        state.update(
            triggers=latest.triggers,
            conditions=latest.conditions,
            actions=latest.actions,
            limits=latest.limits,
            routing=latest.routing,
        )
    return state


PLAYBOOK_AUDIT = AdminAudit("playbook", playbook_state)


def raise_problems(problems: list[Problem]) -> None:
    fields: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        fields[problem.field or "playbook"].append(problem.message)
    raise ApplicationError("VALIDATION_ERROR", "The playbook is invalid; see fields.", fields=dict(fields))


def _validated(document: Any, *, for_publish: bool = False) -> dict[str, Any]:
    # Credentials pasted into a playbook's texts are never stored (NFR-3).
    spec, problems = validate_playbook(redact_secrets(document, where="playbook"))
    if spec is None or (for_publish and problems):
        raise_problems(problems)
    assert spec is not None
    return spec


def _add_version(*, playbook: Playbook, spec: dict[str, Any], actor_id: str) -> PlaybookVersion:
    version = PlaybookVersion.objects.create(
        tenant_id=playbook.tenant_id,
        playbook=playbook,
        version=playbook.latest_version + 1,
        triggers=spec["triggers"],
        conditions=spec["conditions"],
        actions=spec["actions"],
        limits=spec["limits"],
        routing=spec["routing"],
        experiment_metadata=spec["experiment_metadata"],
        created_by=actor_id,
    )
    playbook.latest_version = version.version
    return version


def _name_taken(name: str) -> ApplicationError:
    return ApplicationError(
        "CONFLICT", "A playbook with this name exists.", status_code=409, fields={"name": ["already in use"]}
    )


def playbook_create(*, tenant_id: str, document: dict[str, Any], actor_id: str) -> Playbook:
    """Create a draft playbook with version 1 (publish-level problems may remain on a draft).

    Raises:
        ApplicationError: ``VALIDATION_ERROR`` (400) listing every structural problem;
            ``CONFLICT`` (409) when the tenant already has a playbook of that name.
    """
    spec = _validated(document)
    try:
        with tenant_atomic():
            playbook = Playbook.objects.create(
                tenant_id=tenant_id, name=spec["name"], description=spec["description"], owner=spec["owner"]
            )
            _add_version(playbook=playbook, spec=spec, actor_id=actor_id)
            playbook.save(update_fields=["latest_version", "updated_at"])
            PLAYBOOK_AUDIT.record(playbook, actor_id=actor_id, operation="create", before=None)
    except IntegrityError as exc:
        raise _name_taken(spec["name"]) from exc
    return playbook


def playbook_update(*, playbook: Playbook, document: dict[str, Any], actor_id: str) -> Playbook:
    """Add version n+1 with the new content; the published version stays live until published again.

    Raises:
        ApplicationError: as ``playbook_create``; ``INVALID_STATE`` (409) for a deprecated playbook.
    """
    spec = _validated(document)
    try:
        with tenant_atomic():
            locked = Playbook.objects.select_for_update().get(pk=playbook.pk)
            if locked.status == PlaybookStatus.DEPRECATED:
                raise ApplicationError(
                    "INVALID_STATE", "A deprecated playbook cannot be updated.", status_code=409
                )
            before = playbook_state(locked)
            locked.name, locked.description, locked.owner = spec["name"], spec["description"], spec["owner"]
            _add_version(playbook=locked, spec=spec, actor_id=actor_id)
            locked.save()
            PLAYBOOK_AUDIT.record(locked, actor_id=actor_id, operation="update", before=before)
    except IntegrityError as exc:
        raise _name_taken(spec["name"]) from exc
    return locked


def version_document(playbook: Playbook, version: PlaybookVersion) -> dict[str, Any]:
    """The playbook document (the YAML/JSON format) of ``version``."""
    return {
        "name": playbook.name,
        "description": playbook.description,
        "owner": playbook.owner,
        "triggers": version.triggers,
        "conditions": version.conditions,
        "actions": version.actions,
        "limits": version.limits,
        "routing": version.routing,
        "experiment_metadata": version.experiment_metadata,
    }


def _index_triggers(playbook: Playbook, version: PlaybookVersion | None) -> None:
    PlaybookTrigger.objects.filter(playbook=playbook).delete()
    if version is None:
        return
    PlaybookTrigger.objects.bulk_create(
        PlaybookTrigger(
            tenant_id=playbook.tenant_id,
            playbook=playbook,
            version=version,
            event_type=trigger["event_type"],
            source=trigger["source"],
            min_severity_rank=Severity.rank(trigger["min_severity"]),
            actor_roles=trigger["actor_roles"],
        )
        for trigger in version.triggers
    )


def playbook_publish(*, playbook: Playbook, actor_id: str) -> Playbook:
    """Publish the latest version (re-validated) and make it the one decisions match.

    Raises:
        ApplicationError: ``VALIDATION_ERROR`` listing every problem; ``INVALID_STATE`` (409)
            when the playbook is deprecated.
    """
    with tenant_atomic():
        locked = Playbook.objects.select_for_update().get(pk=playbook.pk)
        if locked.status == PlaybookStatus.DEPRECATED:
            raise ApplicationError(
                "INVALID_STATE", "A deprecated playbook cannot be published.", status_code=409
            )
        latest = locked.versions.get(version=locked.latest_version)
        _validated(version_document(locked, latest), for_publish=True)
        before = playbook_state(locked)
        locked.published_version = latest
        locked.status = PlaybookStatus.PUBLISHED
        locked.save(update_fields=["published_version", "status", "updated_at"])
        _index_triggers(locked, latest)
        PLAYBOOK_AUDIT.record(locked, actor_id=actor_id, operation="publish", before=before)
    return locked


def playbook_deprecate(*, playbook: Playbook, actor_id: str) -> Playbook:
    """Soft delete: status ``deprecated``; no longer matched. Versions stay for decisions' history."""
    with tenant_atomic():
        locked = Playbook.objects.select_for_update().get(pk=playbook.pk)
        before = playbook_state(locked)
        locked.status = PlaybookStatus.DEPRECATED
        locked.save(update_fields=["status", "updated_at"])
        _index_triggers(locked, None)
        PLAYBOOK_AUDIT.record(locked, actor_id=actor_id, operation="deprecate", before=before)
    return locked


def playbook_upsert(*, tenant_id: str, document: dict[str, Any], actor_id: str) -> tuple[Playbook, str]:
    """Create the playbook named in ``document``, or add a version when its content changed.

    Returns ``(playbook, change)`` with change ``"created"``, ``"updated"`` or ``"unchanged"``.
    Raises ApplicationError as ``playbook_create`` and ``playbook_update``.
    """
    spec = _validated(document)
    existing = Playbook.objects.for_tenant(tenant_id).filter(name=spec["name"]).first()
    if existing is None:
        return playbook_create(tenant_id=tenant_id, document=document, actor_id=actor_id), "created"
    latest = existing.versions.get(version=existing.latest_version)
    current = version_document(existing, latest)
    if all(current[key] == spec[key] for key in current):
        return existing, "unchanged"
    return playbook_update(playbook=existing, document=document, actor_id=actor_id), "updated"
