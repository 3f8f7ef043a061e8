from django.urls import path

from receipts.ledger.views import (
    ReceiptLogConsistencyProofApi,
    ReceiptLogHeadApi,
    ReceiptLogInclusionProofApi,
)
from receipts.views import ReceiptKeysApi, ReceiptListApi, ReceiptVerifyApi

urlpatterns = [
    path("receipts", ReceiptListApi.as_view(), name="receipt-list"),
    path("receipts/keys", ReceiptKeysApi.as_view(), name="receipt-keys"),
    path("receipts/verify", ReceiptVerifyApi.as_view(), name="receipt-verify"),
    path("receipts/log/<str:tenant_id>/head", ReceiptLogHeadApi.as_view(), name="receipt-log-head"),
    path(
        "receipts/log/<str:tenant_id>/proof/inclusion",
        ReceiptLogInclusionProofApi.as_view(),
        name="receipt-log-inclusion",
    ),
    path(
        "receipts/log/<str:tenant_id>/proof/consistency",
        ReceiptLogConsistencyProofApi.as_view(),
        name="receipt-log-consistency",
    ),
]
