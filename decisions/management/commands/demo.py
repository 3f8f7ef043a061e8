"""``python manage.py demo [PATH]``: the engine end to end on real, recorded input.

Creates the ``demo`` tenant (quiet hours off, so the demo shows nudges at any hour), loads and
publishes the starter playbooks, replays every delivery of PATH (default ``fixtures/real-input``)
through the webhook and signal endpoints as GitHub, Alertmanager and CloudEvents producers send
them (signed), prints source event -> signal -> decision -> actions and suppressions, reports one
outcome per decision, and verifies every receipt. Exits non-zero on any error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from decisions.intake.replay import Sender, github_route_keys, replay
from decisions.intake.webhooks import webhook_endpoints_for_replay
from decisions.models import Decision, Signal, SignalStatus
from mmm_project.auth.tokens import mint_token
from mmm_project.residency import tenant_context
from preferences.services import tenant_policy_update
from receipts.models import Receipt
from receipts.services import receipt_document
from receipts.signing import verify_document

TENANT = "demo"
DEMO_ADMIN = "demo-admin"


def _signal_ids(response: dict[str, Any]) -> list[str]:
    if "signal_id" in response:
        return [response["signal_id"]]
    return list(response.get("accepted", [])) + list(response.get("duplicates", []))


class Command(BaseCommand):
    help = "Run the demo: real recorded webhooks in, nudges and signed receipts out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default=str(Path(settings.BASE_DIR) / "fixtures" / "real-input")
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=60.0,
            help="services mode: seconds to wait for the worker to decide the replayed signals",
        )

    def line(self, text: str = "") -> None:
        self.stdout.write(text)

    def execute(self, *args: Any, **options: Any) -> Any:
        with tenant_context(TENANT):  # the demo tenant's region (NFR-3)
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["path"])
        if not root.is_dir():
            raise CommandError(f"{root}: not a folder")
        tenant_policy_update(
            tenant_id=TENANT, changes={"quiet_hours_start": 0, "quiet_hours_end": 0}, actor_id=DEMO_ADMIN
        )
        call_command(
            "load_playbooks",
            str(Path(settings.BASE_DIR) / "playbooks" / "starter"),
            "--tenant",
            TENANT,
            "--publish",
            stdout=self.stdout if options["verbosity"] > 1 else _Null(),
        )
        secret, token = webhook_endpoints_for_replay(
            tenant_id=TENANT, route_keys=github_route_keys(root), actor_id=DEMO_ADMIN
        )
        bearer = mint_token(tenant_id=TENANT, actor_id=DEMO_ADMIN, scopes=["mmm.decide", "mmm.outcome"])
        sender = Sender()
        results = replay(
            root, sender=sender, github_secret=secret, alertmanager_token=token, bearer_token=bearer
        )

        waiting = self._wait_for_worker(
            [signal_id for sent in results for signal_id in _signal_ids(sent.response)], options["wait"]
        )
        if waiting:
            self.line(f"{waiting} signal(s) still waiting for a worker after {options['wait']} s")
        errors = 0
        self.line(f"{'source event':<58} {'signal':<36} {'decision / actions'}")
        self.line("-" * 140)
        for sent in results:
            source = sent.recording.path.relative_to(root).as_posix().removesuffix(".json")
            if not 200 <= sent.status < 300:
                errors += 1
                self.line(f"{source:<58} HTTP {sent.status} {sent.response.get('error', {}).get('code', '')}")
                continue
            ids = _signal_ids(sent.response)
            if not ids:
                reason = (
                    sent.response.get("reason")
                    or "; ".join(sent.response.get("ignored", []))
                    or "nothing to do"
                )
                self.line(f"{source:<58} {'(ignored)':<36} {reason}")
                continue
            for signal_id in ids:
                errors += self._report(source, signal_id, sender)
                source = ""
        errors += self._verify_receipts()
        if errors:
            raise CommandError(f"demo finished with {errors} error(s)")
        self.line("demo finished without errors")

    def _wait_for_worker(self, signal_ids: list[str], seconds: float) -> int:
        """In services mode a worker decides the signals: wait for it, at most ``seconds``; return
        how many are still undecided. The embedded default decided them in-process already."""
        deadline = time.monotonic() + seconds
        pending = Signal.objects.for_tenant(TENANT).filter(
            signal_id__in=signal_ids, status__in=[SignalStatus.RECEIVED, SignalStatus.DECIDING]
        )
        while (count := pending.count()) and time.monotonic() < deadline:
            time.sleep(0.25)
        return count

    def _report(self, source: str, signal_id: str, sender: Sender) -> int:
        signal = Signal.objects.for_tenant(TENANT).filter(signal_id=signal_id).first()
        if signal is None or signal.status != SignalStatus.DECIDED:
            why = signal.last_error if signal else "missing"
            self.line(f"{source:<58} {signal_id[:36]:<36} NOT DECIDED ({why})")
            return 1
        decision = Decision.objects.prefetch_related("actions").get(signal=signal)
        label = f"{signal.event_type} ({signal.severity})"
        actions = list(decision.actions.all())
        self.line(f"{source:<58} {label:<36} decision {str(decision.id)[:8]}: {len(actions)} action(s)")
        for action in actions:
            title = action.payload.get("title", "")
            self.line(f"{'':<58} {'':<36}   {action.type:<10} {','.join(action.surfaces):<12} {title[:60]}")
        for record in decision.suppressed_actions:
            self.line(
                f"{'':<58} {'':<36}   suppressed {record.get('type') or 'playbook'}: {record['reason']}"
                + (f" x{record['count']}" if "count" in record else "")
            )
        if actions:
            token = mint_token(tenant_id=TENANT, actor_id=decision.actor_id, scopes=["mmm.outcome"])
            status, _ = sender.post(
                f"/v1/mmm/decisions/{decision.id}/outcomes",
                f'{{"action_id": "{actions[0].id}", "result": "shown"}}'.encode(),
                {"Authorization": f"Bearer {token}"},
                "application/json",
            )
            if status != 202:
                self.line(f"{'':<58} {'':<36}   outcome refused: HTTP {status}")
                return 1
        return 0

    def _verify_receipts(self) -> int:
        receipts = list(Receipt.objects.for_tenant(TENANT))
        invalid = [r for r in receipts if not verify_document(receipt_document(r)).valid]
        kinds = ", ".join(
            f"{k}: {sum(1 for r in receipts if r.kind == k)}" for k in sorted({r.kind for r in receipts})
        )
        self.line("-" * 140)
        self.line(
            f"receipts: {len(receipts)} signed ({kinds}); {len(receipts) - len(invalid)} verify, "
            f"{len(invalid)} do not"
        )
        return len(invalid)


class _Null:
    def write(self, *args: Any, **kwargs: Any) -> None:
        pass

    def flush(self) -> None:
        pass
