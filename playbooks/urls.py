from django.urls import path

from playbooks.views import PlaybookCollectionApi, PlaybookDetailApi, PlaybookPublishApi

urlpatterns = [
    path("playbooks", PlaybookCollectionApi.as_view(), name="playbook-list"),
    path("playbooks/<uuid:playbook_id>", PlaybookDetailApi.as_view(), name="playbook-detail"),
    path("playbooks/<uuid:playbook_id>/publish", PlaybookPublishApi.as_view(), name="playbook-publish"),
]
