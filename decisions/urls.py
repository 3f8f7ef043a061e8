from django.urls import path

from decisions.views import DecisionDetailApi

urlpatterns = [
    path("decisions/<str:decision_id>", DecisionDetailApi.as_view(), name="decision-detail"),
]
