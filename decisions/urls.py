from django.urls import path

from decisions.views import ActorNudgesApi, DecideApi, DecisionDetailApi, OutcomeCreateApi

urlpatterns = [
    path("decide", DecideApi.as_view(), name="decide"),
    path("decisions/<str:decision_id>", DecisionDetailApi.as_view(), name="decision-detail"),
    path("decisions/<str:decision_id>/outcomes", OutcomeCreateApi.as_view(), name="decision-outcomes"),
    path("actors/<str:actor_id>/nudges", ActorNudgesApi.as_view(), name="actor-nudges"),
]
