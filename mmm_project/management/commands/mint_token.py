"""``python manage.py mint_token --tenant T --actor A [...]``: print a bearer token for local use.

Embedded default only: it signs with the locally generated key and refuses when ``JWT_JWKS`` is
set (tokens then come from the IAM).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mmm_project.auth.principal import ACTOR_TYPES, SCOPES, SERVICE_SCOPES
from mmm_project.auth.tokens import mint_token


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = "Print a signed bearer token for local use (embedded default only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant_id claim")
        parser.add_argument("--actor", required=True, help="sub claim (actor id)")
        parser.add_argument("--actor-type", default="human", choices=ACTOR_TYPES)
        parser.add_argument("--roles", default="", help="comma-separated, e.g. tenant_admin,mmm_admin")
        parser.add_argument(
            "--scopes",
            default=",".join(SCOPES),
            help=f"comma-separated; default all of {', '.join(SCOPES)}",
        )
        parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")

    def handle(self, *args: Any, **options: Any) -> None:
        scopes = _csv(options["scopes"])
        unknown = sorted(set(scopes) - set(SCOPES) - set(SERVICE_SCOPES))
        if unknown:
            raise CommandError(f"unknown scopes: {', '.join(unknown)}")
        try:
            token = mint_token(
                tenant_id=options["tenant"],
                actor_id=options["actor"],
                actor_type=options["actor_type"],
                roles=_csv(options["roles"]),
                scopes=scopes,
                ttl_seconds=options["ttl"],
            )
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)
