"""Shared Django admin pieces: every admin write goes through a service, or the page is read-only.

* ``ReadOnlyAdmin``: immutable rows (decisions, actions, signals, versions, receipts); no add,
  change or delete.
* ``ActionsOnlyAdmin``: read-only rows whose only writes are bulk actions calling a service
  (legal hold, deactivating a webhook endpoint); the change form is read-only and refuses POST.
* ``ServiceAdmin``: editable pages whose ``save_model`` calls the same service as the API, so an
  admin edit writes the ``admin_config`` receipt and audit line and drops the caches (FR-13,
  NFR-7). Forms validate with the API's own input serializers (``add_serializer_errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from mmm_project.errors import ApplicationError


def admin_actor_id(request: HttpRequest) -> str:
    """The actor id admin receipts record for a Django user: its id, never its name."""
    return f"django-admin:{request.user.pk}"


def describe_error(exc: ApplicationError) -> str:
    """One line for a message: the error's text and its field problems."""
    fields = "; ".join(f"{name}: {', '.join(map(str, msgs))}" for name, msgs in (exc.fields or {}).items())
    return f"{exc.message} {fields}".strip()


def _flatten(errors: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            yield from _flatten(value, f"{path}.{key}" if path else str(key))
    elif isinstance(errors, list | tuple):
        for item in errors:
            yield from _flatten(item, path)
    else:
        yield path, str(errors)


def add_serializer_errors(form: forms.Form, errors: Any, field_for: Mapping[str, str] | None = None) -> None:
    """Put a DRF serializer's errors on the admin form, each under the form field it concerns.

    ``field_for`` maps an API path (``quiet_hours.timezone``) to a model field (``timezone``);
    otherwise the path's first part is used when it is a form field, else the error is general.
    """
    for path, message in _flatten(errors):
        field = (field_for or {}).get(path) or path.split(".")[0]
        if field in form.fields:
            form.add_error(field, message)
        else:
            form.add_error(None, f"{path}: {message}")


def apply_to_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: Any,
    service: Callable[[Any], Any],
    done: str,
) -> None:
    """An admin action's body: ``service(row)`` for each selected row, then how many succeeded and
    each refusal (``ApplicationError``) as a message."""
    succeeded = 0
    for row in queryset:
        try:
            service(row)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{row}: {describe_error(exc)}", level=messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{succeeded} {done}.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Admin for immutable rows (decisions, actions, signals, playbook versions, receipts).

    Superusers can browse and search; nobody adds, edits or deletes here. Retention and actor
    deletion are the only ways such rows change.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionsOnlyAdmin(ReadOnlyAdmin):
    """Read-only rows whose admin actions (declared ``allowed_permissions=("change",)``) call a service.

    The change permission exists only for the list (where actions run); a row's change form is
    shown read-only and a POST to it answers 403.
    """

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and admin.ModelAdmin.has_change_permission(self, request)


class ServiceAdmin(admin.ModelAdmin):
    """Editable admin whose ``save_model`` calls a service; nothing is deleted here.

    A service's ``ApplicationError`` (a conflict, a state that forbids the change) rolls the whole
    request back and shows the error on the page instead of a 500.
    """

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, f"Not saved: {describe_error(exc)}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing besides the service writes: inlines here are read-only, so their formsets save
        nothing (the empty lists are what Django's change message reads)."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def json_table(value: Any) -> str:
    """A JSON value as readable HTML for a read-only admin page: an object as a two-column table,
    a list of objects as a table with a column per key, a list of scalars as a comma-separated
    line, anything else as text (escaped)."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    if isinstance(value, Mapping):
        if not value:
            return "-"
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", ((k, json_table(v)) for k, v in value.items())
        )
        return format_html('<table class="mmm-json">{}</table>', rows)
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, Mapping) for item in value):
            columns = list(dict.fromkeys(key for item in value for key in item))
            head = format_html_join("", "<th>{}</th>", ((c,) for c in columns))
            body = mark_safe(  # noqa: S308 - every cell is escaped by format_html_join
                "".join(
                    format_html(
                        "<tr>{}</tr>",
                        format_html_join("", "<td>{}</td>", ((json_table(item.get(c)),) for c in columns)),
                    )
                    for item in value
                )
            )
            return format_html(
                '<table class="mmm-json"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body
            )
        # Each part is escaped by the branch that rendered it.
        return mark_safe(", ".join(str(json_table(item)) for item in value)) if value else "-"  # noqa: S308
    return "-" if value is None or value == "" else format_html("{}", value)
