"""A task runs in the tenant (or region) scope it was queued from (NFR-3).

Publishing adds the current scope to the message headers (``mmm_tenant``, ``mmm_region``); the
worker enters it before the task runs and leaves it afterwards. A task queued with no scope
(beat) runs with none and must pick its regions itself (``each_region``). Tasks run eagerly
(embedded default, tests) need nothing: they run inside the caller's context.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from mmm_project.residency.context import Scope, _checked, _scope, current_scope, region_of

TENANT_HEADER, REGION_HEADER = "mmm_tenant", "mmm_region"

# task id -> the token that restores the worker's scope once the task is over
_entered: dict[str, Token[Scope | None]] = {}


@before_task_publish.connect(dispatch_uid="mmm-residency-publish")
def _carry_scope(headers: dict[str, Any] | None = None, **_: Any) -> None:
    scope = current_scope()
    if scope is None or headers is None:
        return
    headers[REGION_HEADER] = scope.alias
    if scope.tenant_id:
        headers[TENANT_HEADER] = scope.tenant_id


def scope_from_headers(tenant_id: str | None, region: str | None) -> Scope | None:
    """The scope a task runs in: its tenant's region (this process's map decides), else the
    region it was queued for; None without either."""
    if tenant_id:
        return Scope(region_of(tenant_id), tenant_id)
    if region:
        return Scope(_checked(region), None)
    return None


@task_prerun.connect(dispatch_uid="mmm-residency-prerun")
def _enter_scope(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    if request is None or getattr(request, "is_eager", False):
        return
    scope = scope_from_headers(getattr(request, TENANT_HEADER, None), getattr(request, REGION_HEADER, None))
    if scope is not None and task_id:
        _entered[task_id] = _scope.set(scope)


@task_postrun.connect(dispatch_uid="mmm-residency-postrun")
def _leave_scope(task_id: str | None = None, **_: Any) -> None:
    token = _entered.pop(task_id, None) if task_id else None
    if token is not None:
        _scope.reset(token)
