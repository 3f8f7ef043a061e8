from django.urls import include, path

from decisions import views
from decisions.backtest import views as backtest_views
from decisions.explain import views as explain_views
from decisions.privacy import views as privacy_views

urlpatterns = [
    path("decide", views.DecideApi.as_view(), name="decide"),
    path("", include("decisions.intake.urls")),
    path("triggers/evaluate", views.TriggerEvaluateApi.as_view(), name="trigger-evaluate"),
    path("playbooks/dry-run", views.PlaybookDryRunApi.as_view(), name="playbook-dry-run"),
    path(
        "playbooks/<uuid:playbook_id>/backtest",
        backtest_views.PlaybookBacktestApi.as_view(),
        name="playbook-backtest",
    ),
    path("backtests/<str:backtest_id>", backtest_views.BacktestDetailApi.as_view(), name="backtest-detail"),
    path("decisions/<str:decision_id>", views.DecisionDetailApi.as_view(), name="decision-detail"),
    path(
        "decisions/<str:decision_id>/explanation",
        explain_views.DecisionExplanationApi.as_view(),
        name="decision-explanation",
    ),
    path(
        "actions/<str:action_id>/explanation",
        explain_views.ActionExplanationApi.as_view(),
        name="action-explanation",
    ),
    path(
        "actions/<str:action_id>/feedback", explain_views.ActionFeedbackApi.as_view(), name="action-feedback"
    ),
    path("decisions/<str:decision_id>/outcomes", views.OutcomeCreateApi.as_view(), name="decision-outcomes"),
    path("actors/<str:actor_id>/nudges", views.ActorNudgesApi.as_view(), name="actor-nudges"),
    path("actors/<str:actor_id>/deletion", privacy_views.ActorDeletionApi.as_view(), name="actor-deletion"),
    path(
        "deletion-requests/<str:request_id>",
        privacy_views.DeletionRequestDetailApi.as_view(),
        name="deletion-request",
    ),
    path("actions/<str:action_id>/consent", views.ActionConsentApi.as_view(), name="action-consent"),
    path("actions/<str:action_id>/approve", views.ActionApproveApi.as_view(), name="action-approve"),
    path("actions/<str:action_id>/reject", views.ActionRejectApi.as_view(), name="action-reject"),
    path("actions/<str:action_id>/execution", views.ActionExecutionApi.as_view(), name="action-execution"),
    path("tenants/<str:tenant_id>/metrics", views.TenantMetricsApi.as_view(), name="tenant-metrics"),
]
