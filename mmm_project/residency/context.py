"""The tenant (and so the region) the current code works for, in a context variable (NFR-3).

Set once where work enters the service: API authentication (``activate_tenant``, undone by
``ResidencyMiddleware`` at the end of the request), a Celery task (``mmm_project.residency.celery``
carries the publisher's scope in message headers), a management command (``--tenant``), a webhook
once its sender is known. Code that works on every region on purpose (beat sweeps, retention, the
admin) says so with ``region_context(alias)`` or ``each_region()``.

``current_alias()`` is what the database router and ``tenant_atomic()`` read: a context variable
read and an attribute access. With one region it is always ``default``; with several, tenant-scoped
work outside any scope raises ``NoRegionContext`` instead of guessing a region.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

DEFAULT_ALIAS = "default"


class ResidencyError(RuntimeError):
    """A tenant-scoped database access that would break data residency (a bug, not bad input)."""


class NoRegionContext(ResidencyError):
    """Tenant-scoped data was queried with several regions configured and no tenant or region in
    context: the service refuses to guess which region's database holds it."""


class CrossRegionWrite(ResidencyError):
    """A row of a tenant pinned to one region was about to be written to another region's database."""


@dataclass(frozen=True, slots=True)
class Scope:
    alias: str  # the region's database alias
    tenant_id: str | None  # None for a whole-region scope (sweeps, admin)


@dataclass(slots=True)
class _Config:
    regions: tuple[str, ...] = (DEFAULT_ALIAS,)
    tenant_regions: Mapping[str, str] | None = None
    # The alias used outside any scope: the default one with a single region, none (refuse) else.
    unscoped: str | None = DEFAULT_ALIAS


_config = _Config(tenant_regions={})
_scope: ContextVar[Scope | None] = ContextVar("mmm_residency_scope", default=None)


def configure(*, aliases: list[str], tenant_regions: Mapping[str, str]) -> None:
    """Install the regions (database aliases, ``default`` first) and the tenant -> region map.

    Raises:
        ImproperlyConfigured: a tenant is pinned to a region that has no ``DATABASE_URL_<REGION>``.
    """
    unknown = sorted({region for region in tenant_regions.values() if region not in aliases})
    if unknown:
        raise ImproperlyConfigured(
            f"TENANT_REGIONS names regions without a database: {', '.join(unknown)} "
            f"(set DATABASE_URL_{unknown[0].upper()}; configured: {', '.join(aliases)})"
        )
    _config.regions = tuple(aliases)
    _config.tenant_regions = dict(tenant_regions)
    _config.unscoped = DEFAULT_ALIAS if len(aliases) == 1 else None


def regions() -> tuple[str, ...]:
    """Every region's database alias, ``default`` first."""
    return _config.regions


def multi_region() -> bool:
    return len(_config.regions) > 1


def region_of(tenant_id: str) -> str:
    """The database alias of the region ``tenant_id`` is pinned to (``default`` when unpinned)."""
    return _config.tenant_regions.get(tenant_id, DEFAULT_ALIAS)


def current_scope() -> Scope | None:
    return _scope.get()


def current_alias() -> str:
    """The database alias tenant-scoped queries go to now.

    Raises:
        NoRegionContext: several regions and no tenant or region in context.
    """
    scope = _scope.get()
    if scope is not None:
        return scope.alias
    if _config.unscoped is not None:
        return _config.unscoped
    raise NoRegionContext(
        "Tenant-scoped data accessed with no tenant in context and several regions configured: "
        "wrap the work in tenant_context(tenant_id) or region_context(alias) (mmm_project.residency)."
    )


def _checked(alias: str) -> str:
    if alias not in _config.regions:
        raise ResidencyError(f"unknown region {alias!r} (configured: {', '.join(_config.regions)})")
    return alias


def activate_tenant(tenant_id: str) -> None:
    """Make ``tenant_id`` the context for the rest of the request (``ResidencyMiddleware`` undoes
    it when the response is out). For code that cannot wrap the rest of its work in a block."""
    _scope.set(Scope(region_of(tenant_id), tenant_id))


@contextmanager
def tenant_context(tenant_id: str) -> Iterator[Scope]:
    """Work for ``tenant_id``: its tenant-scoped queries go to its region's database."""
    scope = Scope(region_of(tenant_id), tenant_id)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def region_context(alias: str) -> Iterator[Scope]:
    """Work on one whole region (sweeps, retention, the admin): for code that iterates regions on
    purpose. Raises ``ResidencyError`` for an alias that is not a configured region."""
    token = _scope.set(Scope(_checked(alias), None))
    try:
        yield _scope.get()
    finally:
        _scope.reset(token)


def each_region() -> Iterator[str]:
    """Yield every region's alias with ``region_context`` entered for the body of the loop."""
    for alias in _config.regions:
        with region_context(alias):
            yield alias


@contextmanager
def command_scope(tenant_id: str | None) -> Iterator[None]:
    """The scope of a management command given ``--tenant``: that tenant's; without one, none
    (the command then works per region with ``each_region``, or fails loudly if it does not)."""
    if tenant_id:
        with tenant_context(tenant_id):
            yield
    else:
        yield


def tenant_or_each_region(tenant_id: str | None) -> Iterator[str]:
    """For commands over one tenant (``--tenant``) or all: yield the tenant's region once, in its
    context; without a tenant, every region in turn (``each_region``)."""
    if tenant_id:
        with tenant_context(tenant_id) as scope:
            yield scope.alias
    else:
        yield from each_region()
