"""The decide path writes less (issue 13): a delivery's action has no index of its own (the unique
(action, surface) index starts with it), and a decision's large JSON columns are compressed with
lz4 instead of pglz on PostgreSQL (a decision of 1,000 matching playbooks keeps 70 kB of
``playbooks_fired``: ~0.5 ms to store instead of ~1.5 ms). A server built without lz4 keeps pglz."""

import django.db.models.deletion
from django.db import migrations, models

LZ4_COLUMNS = ("playbooks_fired", "context", "suppressed_actions", "experiment_assignments")


def _compression(method):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in LZ4_COLUMNS:
            # Identifiers from this module only; a server without lz4 answers feature_not_supported.
            schema_editor.execute(
                "DO $$ BEGIN "
                f"ALTER TABLE mmm_decisions ALTER COLUMN {column} SET COMPRESSION {method}; "  # noqa: S608
                "EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0016_action_route_reason"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="action",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="decisions.action",
            ),
        ),
        migrations.RunPython(_compression("lz4"), _compression("pglz")),
    ]
