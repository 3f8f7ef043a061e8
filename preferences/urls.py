from django.urls import path

from preferences.views import (
    ActorPreferencesDetailApi,
    ActorSnoozeApi,
    TenantPolicyDetailApi,
    TenantPolicyInvalidateApi,
)

urlpatterns = [
    path("tenants/<str:tenant_id>/policy", TenantPolicyDetailApi.as_view(), name="tenant-policy"),
    path(
        "tenants/<str:tenant_id>/policy/invalidate",
        TenantPolicyInvalidateApi.as_view(),
        name="tenant-policy-invalidate",
    ),
    path("actors/<str:actor_id>/preferences", ActorPreferencesDetailApi.as_view(), name="actor-preferences"),
    path("actors/<str:actor_id>/preferences/snooze", ActorSnoozeApi.as_view(), name="actor-snooze"),
]
