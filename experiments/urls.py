from django.urls import path

from experiments import views

urlpatterns = [
    path("experiments", views.ExperimentCollectionApi.as_view(), name="experiment-list"),
    path("experiments/<str:experiment_id>", views.ExperimentDetailApi.as_view(), name="experiment-detail"),
    path(
        "experiments/<str:experiment_id>/activate",
        views.ExperimentActivateApi.as_view(),
        name="experiment-activate",
    ),
    path(
        "experiments/<str:experiment_id>/deactivate",
        views.ExperimentDeactivateApi.as_view(),
        name="experiment-deactivate",
    ),
]
