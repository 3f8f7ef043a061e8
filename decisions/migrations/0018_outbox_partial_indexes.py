"""The outbox and ingest-sweep indexes hold only rows still to handle (issue 13): recorded or sent
deliveries and decided signals, nearly every row, cost no entry in them. Same names, same columns,
each with its condition; the sweeps' and the backlog's queries name those statuses, so the planner
still uses them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0017_delivery_index_lz4"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="delivery",
            name="mmm_delivery_status_updated",
        ),
        migrations.RemoveIndex(
            model_name="delivery",
            name="mmm_delivery_status_next",
        ),
        migrations.RemoveIndex(
            model_name="signal",
            name="mmm_signal_status_received",
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sending", "failed"])),
                fields=["status", "updated_at"],
                name="mmm_delivery_status_updated",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sending", "failed"])),
                fields=["status", "next_attempt_at"],
                name="mmm_delivery_status_next",
            ),
        ),
        migrations.AddIndex(
            model_name="signal",
            index=models.Index(
                condition=models.Q(("status__in", ["received", "deciding"])),
                fields=["status", "received_at"],
                name="mmm_signal_status_received",
            ),
        ),
    ]
