from django.urls import path

from preferences.views import ActorPreferencesDetailApi, ActorSnoozeApi, TenantPolicyDetailApi

urlpatterns = [
    path("tenants/<str:tenant_id>/policy", TenantPolicyDetailApi.as_view(), name="tenant-policy"),
    path("actors/<str:actor_id>/preferences", ActorPreferencesDetailApi.as_view(), name="actor-preferences"),
    path("actors/<str:actor_id>/preferences/snooze", ActorSnoozeApi.as_view(), name="actor-snooze"),
]
