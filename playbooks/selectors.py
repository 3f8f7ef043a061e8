"""Reads of playbooks, always scoped to one tenant (NFR-5)."""

from __future__ import annotations

from django.db.models import QuerySet

from decisions.engine.matching import PlaybookCandidate, event_type_patterns, trigger_fits
from decisions.engine.thresholds import Threshold, threshold_of
from mmm_project.caching import TENANT_CONFIG, LocalCache, generation_get
from mmm_project.tenancy import get_for_tenant
from mmm_project.vocabulary import Severity
from playbooks.models import Playbook, PlaybookTrigger, PlaybookVersion


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


_CANDIDATES = LocalCache(max_entries=4096, max_age=60.0)


def playbook_candidates(
    *, tenant_id: str, event_type: str, source: str, severity: str, generation: str | None = None
) -> list[PlaybookCandidate]:
    """Published playbook versions whose triggers fit the signal (a list the caller must not change).

    Cached per process (their CEL programs are compiled once per version, ``compiled_conditions``)
    while the tenant's configuration generation (``mmm_project.caching``, bumped by every
    playbook write) is ``generation`` (read when None), and for at most 60 s.
    """
    if generation is None:
        generation = generation_get(TENANT_CONFIG, tenant_id)
    key = (tenant_id, event_type, source, severity)
    return _CANDIDATES.get_or_load(
        key,
        generation,
        lambda: _candidates_load(
            tenant_id=tenant_id, event_type=event_type, source=source, severity=severity
        ),
    )


def playbook_candidates_seen(
    *, tenant_id: str, event_type: str, source: str, severity: str
) -> list[PlaybookCandidate] | None:
    """What ``playbook_candidates`` last answered for the signal's kind in this process, whatever
    the generation since (None if it never did): a guess, no I/O. The decide path sizes its
    database lookup on it while the generation is being read (``decisions.services.decide``)."""
    return _CANDIDATES.peek((tenant_id, event_type, source, severity))


def _candidates_load(
    *, tenant_id: str, event_type: str, source: str, severity: str
) -> list[PlaybookCandidate]:
    """Published playbook versions whose triggers fit the signal, through the trigger index.

    One query on the index ``mmm_trigger_lookup (tenant_id, event_type, source,
    min_severity_rank)``, then primary-key fetches of the fitting versions and names: the cost
    grows with the triggers that fit, not with the tenant's playbooks (NFR-1, PT-MMM-02). No
    join: with ``IN`` lists the planner misjudges row counts and would scan every playbook.
    """
    rows = list(
        PlaybookTrigger.objects.for_tenant(tenant_id)
        .filter(
            event_type__in=event_type_patterns(event_type),
            source__in=[source, "*"],
            min_severity_rank__lte=Severity.rank(severity),
        )
        .values_list("version_id", "playbook_id", "actor_roles")
    )
    if not rows:
        return []
    versions = PlaybookVersion.objects.in_bulk({version_id for version_id, _, _ in rows})
    names = dict(
        Playbook.objects.filter(pk__in={playbook_id for _, playbook_id, _ in rows}).values_list("id", "name")
    )
    roles_by_version: dict[object, list[tuple[str, ...]]] = {}
    for version_id, _, roles in rows:
        roles_by_version.setdefault(version_id, []).append(tuple(roles))
    candidates = []
    for version_id, version in versions.items():
        roles, thresholds = tuple(roles_by_version[version_id]), ()
        if any("count" in trigger for trigger in version.triggers):  # issue 15: pair roles and counts
            roles, thresholds = _fitting_thresholds(version.triggers, event_type, source, severity)
        candidates.append(
            PlaybookCandidate(
                playbook_id=str(version.playbook_id),
                playbook_name=names[version.playbook_id],
                version_id=str(version.id),
                version=version.version,
                trigger_roles=roles,
                conditions=tuple(version.conditions),
                actions=tuple(version.actions),
                limits=dict(version.limits),
                trigger_thresholds=thresholds,
                routing=dict(version.routing),
            )
        )
    return sorted(candidates, key=lambda c: c.playbook_name)


def _fitting_thresholds(
    triggers: list[dict], event_type: str, source: str, severity: str
) -> tuple[tuple[tuple[str, ...], ...], tuple[Threshold | None, ...]]:
    """The roles and count thresholds of the triggers that fit, in the same order."""
    rank = Severity.rank(severity)
    fitting = [
        t
        for t in triggers
        if trigger_fits(
            t,
            event_type=event_type,
            source=source,
            severity_rank=rank,
            min_rank=Severity.rank(t["min_severity"]),
        )
    ]
    return tuple(tuple(t["actor_roles"]) for t in fitting), tuple(threshold_of(t) for t in fitting)


def version_triggers(*, tenant_id: str, version_ids: list[str]) -> dict[str, list[dict]]:
    """Return ``{version_id: triggers}`` for these playbook versions of ``tenant_id`` (one query).

    ``triggers`` as stored: ``[{"event_type", "source", "min_severity", "actor_roles"}]``. Ids of
    another tenant's versions are absent from the answer.
    """
    if not version_ids:
        return {}
    rows = PlaybookVersion.objects.for_tenant(tenant_id).filter(pk__in=version_ids)
    return {str(pk): list(triggers) for pk, triggers in rows.values_list("pk", "triggers")}
