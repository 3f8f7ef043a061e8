from django.urls import path

from playbooks.views import PlaybookCollectionApi, PlaybookDetailApi, PlaybookPublishApi

urlpatterns = [
    path("playbooks", PlaybookCollectionApi.as_view(), name="playbook-list"),
    path("playbooks/<str:playbook_id>", PlaybookDetailApi.as_view(), name="playbook-detail"),
    path("playbooks/<str:playbook_id>/publish", PlaybookPublishApi.as_view(), name="playbook-publish"),
]
