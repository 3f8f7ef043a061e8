"""The outbox indexes hold only receipts still to send or failed (issue 13): local or sent ones,
nearly every row, cost no entry in them. Same names, same columns, each with its condition; the
sweeps' and the backlog's queries name those statuses, so the planner still uses them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("receipts", "0005_receipt_ledger"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="receipt",
            name="mmm_receipt_status_updated",
        ),
        migrations.RemoveIndex(
            model_name="receipt",
            name="mmm_receipt_status_next",
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sending", "failed"])),
                fields=["status", "updated_at"],
                name="mmm_receipt_status_updated",
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sending", "failed"])),
                fields=["status", "next_attempt_at"],
                name="mmm_receipt_status_next",
            ),
        ),
    ]
