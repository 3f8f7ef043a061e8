from django.urls import path

from playbooks.views import PlaybookCollectionApi, PlaybookDetailApi, PlaybookDryRunApi, PlaybookPublishApi

urlpatterns = [
    path("playbooks", PlaybookCollectionApi.as_view(), name="playbook-list"),
    path("playbooks/dry-run", PlaybookDryRunApi.as_view(), name="playbook-dry-run"),
    path("playbooks/<str:playbook_id>", PlaybookDetailApi.as_view(), name="playbook-detail"),
    path("playbooks/<str:playbook_id>/publish", PlaybookPublishApi.as_view(), name="playbook-publish"),
]
