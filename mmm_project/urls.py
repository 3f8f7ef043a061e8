"""URL map. API under ``/v1/mmm/`` (spec section 11); Django admin under ``/admin/``."""

from django.contrib import admin
from django.urls import include, path, re_path
from django_prometheus.exports import ExportToDjangoView

from mmm_project import errors, health

api_patterns = [
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("metrics", ExportToDjangoView, name="metrics"),
    path("", include("decisions.urls")),
    path("", include("playbooks.urls")),
    path("", include("preferences.urls")),
    path("", include("receipts.urls")),
    path("", include("experiments.urls")),
]

urlpatterns = [
    path("v1/mmm/", include(api_patterns)),
    path("admin/", admin.site.urls),
    # Unknown API paths get the JSON error body even with DEBUG on (no HTML debug page).
    re_path(r"^v1/", errors.handler404),
]

handler400 = "mmm_project.errors.handler400"
handler403 = "mmm_project.errors.handler403"
handler404 = "mmm_project.errors.handler404"
handler500 = "mmm_project.errors.handler500"
