from django.urls import path

from playbooks.views import PlaybookDetailApi, PlaybookListApi

urlpatterns = [
    path("playbooks", PlaybookListApi.as_view(), name="playbook-list"),
    path("playbooks/<str:playbook_id>", PlaybookDetailApi.as_view(), name="playbook-detail"),
]
