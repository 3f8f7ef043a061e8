from django.urls import path

from decisions import ingest_views, views

urlpatterns = [
    path("decide", views.DecideApi.as_view(), name="decide"),
    path("signals", ingest_views.SignalIngestApi.as_view(), name="signals"),
    path("webhooks/github", ingest_views.GitHubWebhookApi.as_view(), name="webhook-github"),
    path("webhooks/alertmanager", ingest_views.AlertmanagerWebhookApi.as_view(), name="webhook-alertmanager"),
    path("webhooks/endpoints", ingest_views.WebhookEndpointCollectionApi.as_view(), name="webhook-endpoints"),
    path(
        "webhooks/endpoints/<str:endpoint_id>",
        ingest_views.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint",
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>/rotate",
        ingest_views.WebhookEndpointRotateApi.as_view(),
        name="webhook-endpoint-rotate",
    ),
    path("decisions/<str:decision_id>", views.DecisionDetailApi.as_view(), name="decision-detail"),
    path("decisions/<str:decision_id>/outcomes", views.OutcomeCreateApi.as_view(), name="decision-outcomes"),
    path("actors/<str:actor_id>/nudges", views.ActorNudgesApi.as_view(), name="actor-nudges"),
    path("actions/<str:action_id>/consent", views.ActionConsentApi.as_view(), name="action-consent"),
    path("actions/<str:action_id>/approve", views.ActionApproveApi.as_view(), name="action-approve"),
    path("actions/<str:action_id>/reject", views.ActionRejectApi.as_view(), name="action-reject"),
    path("actions/<str:action_id>/execution", views.ActionExecutionApi.as_view(), name="action-execution"),
    path("tenants/<str:tenant_id>/metrics", views.TenantMetricsApi.as_view(), name="tenant-metrics"),
]
