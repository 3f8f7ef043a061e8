"""URL map. API under ``/v1/mmm/`` (spec section 11); Django admin under ``/admin/``."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from mmm_project import errors, health
from mmm_project.residency.views import admin_region_switch

api_patterns = [
    path("health", health.HealthApi.as_view(), name="health"),
    path("ready", health.ReadyApi.as_view(), name="ready"),
    path("metrics", health.MetricsApi.as_view(), name="metrics"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="swagger-ui"),
    path("", include("decisions.urls")),
    path("", include("playbooks.urls")),
    path("", include("preferences.urls")),
    path("", include("receipts.urls")),
    path("", include("experiments.urls")),
]

urlpatterns = [
    path("v1/mmm/", include(api_patterns)),
    # The admin shows one region at a time (NFR-3): this switches the session's (docs/data-residency.md).
    path("admin/region/<str:region>/", admin_region_switch, name="admin-region-switch"),
    path("admin/", admin.site.urls),
    # Unknown API paths get the JSON error body for every method, even with DEBUG on: no HTML debug
    # page, and no CSRF failure page for a POST (the API authenticates by bearer token, not cookie).
    re_path(r"^v1/", csrf_exempt(errors.handler404)),
]

handler400 = "mmm_project.errors.handler400"
handler403 = "mmm_project.errors.handler403"
handler404 = "mmm_project.errors.handler404"
handler500 = "mmm_project.errors.handler500"
