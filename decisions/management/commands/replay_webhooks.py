"""``python manage.py replay_webhooks PATH... [--tenant T] [--url URL ...]``: replay recorded deliveries.

Each PATH is laid out like ``fixtures/real-input/`` (``github/<event>/*.json``,
``alertmanager/*.json``, ``cloudevents/*.json``). In-process (default) the tenant's webhook
endpoints are provisioned (created, or their secrets rotated) so the deliveries can be signed;
with ``--url`` the secrets and a bearer token must be given. Exits non-zero if any delivery is
not answered 2xx.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from decisions.intake.replay import Sender, github_route_keys, replay
from decisions.intake.webhooks import webhook_endpoints_for_replay
from mmm_project.auth.tokens import mint_token
from mmm_project.residency.commands import TenantCommand

REPLAY_ACTOR = "replay"


class Command(TenantCommand):  # --tenant: that tenant's region (NFR-3)
    help = "Replay recorded GitHub, Alertmanager and CloudEvents deliveries through the HTTP endpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="folders laid out like fixtures/real-input/")
        parser.add_argument(
            "--tenant", default="demo", help="tenant to replay into (in-process; default demo)"
        )
        parser.add_argument("--url", help="send to a running service instead, e.g. http://127.0.0.1:8000")
        parser.add_argument("--github-secret", help="with --url: the tenant's GitHub webhook secret")
        parser.add_argument("--alertmanager-token", help="with --url: the tenant's Alertmanager token")
        parser.add_argument("--token", help="with --url: a bearer JWT (scope mmm.decide) for CloudEvents")

    def handle(self, *args: Any, **options: Any) -> None:
        roots = [Path(p) for p in options["paths"]]
        for root in roots:
            if not root.is_dir():
                raise CommandError(f"{root}: not a folder")
        if options["url"]:
            missing = [o for o in ("github_secret", "alertmanager_token", "token") if not options[o]]
            if missing:
                raise CommandError(
                    "with --url give " + ", ".join("--" + m.replace("_", "-") for m in missing)
                )
            secret, am_token, bearer = (
                options["github_secret"],
                options["alertmanager_token"],
                options["token"],
            )
        else:
            keys = [key for root in roots for key in github_route_keys(root)]
            secret, am_token = webhook_endpoints_for_replay(
                tenant_id=options["tenant"], route_keys=keys, actor_id=REPLAY_ACTOR
            )
            bearer = mint_token(tenant_id=options["tenant"], actor_id=REPLAY_ACTOR, scopes=["mmm.decide"])
        sender = Sender(options["url"])
        failures = 0
        for root in roots:
            for sent in replay(
                root, sender=sender, github_secret=secret, alertmanager_token=am_token, bearer_token=bearer
            ):
                ok = 200 <= sent.status < 300
                failures += not ok
                summary = sent.response.get("status") or sent.response.get("error", {}).get("code") or ""
                self.stdout.write(f"{sent.status} {sent.recording.path.relative_to(root)} {summary}".rstrip())
        if failures:
            raise CommandError(f"{failures} delivery(ies) were not accepted")
