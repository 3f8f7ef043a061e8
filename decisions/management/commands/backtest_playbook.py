"""``python manage.py backtest_playbook PLAYBOOK --tenant T [--playbook-version N] [--days 14] [--json]``.

Replays the tenant's stored signals of the last ``--days`` days through the engine in simulation
with the playbook's version (default its latest, draft or published) next to the other published
playbooks, and prints what would have been delivered and suppressed. Writes nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from decisions.backtest.services import DEFAULT_DAYS, MAX_DAYS, backtest_version, playbook_backtest
from mmm_project.errors import ApplicationError
from mmm_project.residency.commands import TenantCommand
from mmm_project.tenancy import parse_uuid
from playbooks.models import Playbook


class Command(TenantCommand):  # --tenant: that tenant's region (NFR-3)
    help = "Backtest a playbook version over the tenant's stored signals (simulation, nothing written)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("playbook", help="playbook id or name")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--playbook-version", type=int, default=None, dest="playbook_version")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"1 to {MAX_DAYS}")
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_id, days = options["tenant"], options["days"]
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be 1 to {MAX_DAYS}")
        playbooks = Playbook.objects.for_tenant(tenant_id)
        key = parse_uuid(options["playbook"])
        playbook = (playbooks.filter(pk=key) if key else playbooks.filter(name=options["playbook"])).first()
        if playbook is None:
            raise CommandError(f"no playbook {options['playbook']!r} in tenant {tenant_id!r}")
        try:
            version = backtest_version(
                tenant_id=tenant_id, playbook=playbook, version=options["playbook_version"]
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.fields}") from exc
        end = timezone.now()
        report = playbook_backtest(
            tenant_id=tenant_id, playbook=playbook, version=version, start=end - timedelta(days=days), end=end
        )
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        own, every = report["playbook"], report["all_playbooks"]
        self.stdout.write(
            f"{playbook.name} v{version.version}, {days} day(s): {report['signals']['replayed']} signals "
            f"replayed, {report['signals']['matched']} matched in {report['elapsed_seconds']} s"
        )
        self.stdout.write(f"  this playbook: {own['delivered']} delivered, {own['suppressed']} suppressed")
        for reason, count in own["suppressed_by_reason"].items():
            self.stdout.write(f"    {reason}: {count}")
        self.stdout.write(
            f"  all playbooks: {every['delivered']} delivered, {every['suppressed']} suppressed"
        )
        for day in report["per_day"]:
            self.stdout.write(
                f"  {day['date']}: {day['delivered']} delivered, {day['suppressed']} suppressed"
            )
        for actor in report["busiest_actors"]:
            self.stdout.write(
                f"  {actor['actor']}: {actor['delivered']} delivered "
                f"(at most {actor['max_delivered_per_day']} a day)"
            )
        for other in report["overlap"]:
            self.stdout.write(f"  overlaps {other['name']}: {other['signals_both_matched']} signal(s)")
