from django.urls import path

from receipts.views import ReceiptKeysApi, ReceiptListApi, ReceiptVerifyApi

urlpatterns = [
    path("receipts", ReceiptListApi.as_view(), name="receipt-list"),
    path("receipts/keys", ReceiptKeysApi.as_view(), name="receipt-keys"),
    path("receipts/verify", ReceiptVerifyApi.as_view(), name="receipt-verify"),
]
