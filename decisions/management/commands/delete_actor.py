"""``python manage.py delete_actor --tenant T ACTOR``: forget an actor now (NFR-3, PR-MMM-02).

Stores a deletion request and runs every batch here, printing the counts; rows on legal hold are
reported and the request stays ``partially_completed`` (beat finishes it once the hold is lifted).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from decisions.privacy.models import ActorDeletionRequest
from decisions.privacy.services import actor_deletion_request, actor_deletion_run
from mmm_project.residency.commands import TenantCommand


class Command(TenantCommand):  # --tenant: that tenant's region (NFR-3)
    help = "Delete or anonymise everything held about one actor of a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("actor_id")

    def handle(self, *args: Any, **options: Any) -> None:
        request = actor_deletion_request(
            tenant_id=options["tenant"], actor_id=options["actor_id"], requested_via="command"
        )
        while actor_deletion_run(request_id=str(request.pk)):
            pass
        request = ActorDeletionRequest.objects.get(pk=request.pk)
        counts = ", ".join(f"{name} {n}" for name, n in sorted(request.counts.items())) or "nothing held"
        self.stdout.write(f"deletion {request.pk}: {request.status}; {counts}")
        if request.held:
            held = ", ".join(f"{name} {n}" for name, n in sorted(request.held.items()))
            self.stdout.write(f"kept on legal hold: {held}")
