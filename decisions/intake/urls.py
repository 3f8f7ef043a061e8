from django.urls import path

from decisions.intake import views

urlpatterns = [
    path("signals", views.SignalIngestApi.as_view(), name="signals"),
    path("webhooks/github", views.GitHubWebhookApi.as_view(), name="webhook-github"),
    path("webhooks/alertmanager", views.AlertmanagerWebhookApi.as_view(), name="webhook-alertmanager"),
    path("webhooks/endpoints", views.WebhookEndpointCollectionApi.as_view(), name="webhook-endpoints"),
    path(
        "webhooks/endpoints/<str:endpoint_id>",
        views.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint",
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>/rotate",
        views.WebhookEndpointRotateApi.as_view(),
        name="webhook-endpoint-rotate",
    ),
]
