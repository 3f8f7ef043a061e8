"""Signals stored before payload minimisation keep only their allow-listed payload fields (NFR-3).

Rows are rewritten in batches of 1,000 by primary key; signals already minimal are not written.
"""

from django.db import migrations

BATCH = 1000


def minimise_stored_payloads(apps, schema_editor):
    from decisions.intake.minimise import payload_minimise

    Signal = apps.get_model("decisions", "Signal")
    last = None
    while True:
        rows = Signal.objects.order_by("pk").only("pk", "source", "payload")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows[:BATCH])
        if not batch:
            return
        changed = []
        for signal in batch:
            kept = payload_minimise(signal.payload, source=signal.source)
            if kept != signal.payload:
                signal.payload = kept
                changed.append(signal)
        Signal.objects.bulk_update(changed, ["payload"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("decisions", "0011_admin_names")]

    operations = [migrations.RunPython(minimise_stored_payloads, migrations.RunPython.noop, elidable=True)]
