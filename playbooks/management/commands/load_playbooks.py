"""``python manage.py load_playbooks PATH... [--tenant T] [--publish]``: playbooks as code.

Reads YAML or JSON files (a folder is searched recursively for ``*.yaml``, ``*.yml``,
``*.json``); a file holds one playbook, a list of them, or ``{"playbooks": [...]}``. Every
playbook is validated first (CEL compiles, templates render, the language lint of FR-4 and
FR-10: each finding named by field and category) and every problem is
reported as ``file: playbook: field: message``; if any is found nothing is written. Then, in
one transaction, new playbooks are created and changed ones get a new version; ``--publish``
publishes each loaded playbook's latest version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mmm_project.errors import ApplicationError
from mmm_project.residency import region_context, region_of, tenant_atomic
from playbooks.models import PlaybookStatus
from playbooks.services import playbook_publish, playbook_upsert
from playbooks.spec import validate_playbook

SUFFIXES = (".yaml", ".yml", ".json")
LOADER_ACTOR = "load_playbooks"


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return found


def _documents(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if isinstance(data, dict) and "playbooks" in data:
        data = data["playbooks"]
    return data if isinstance(data, list) else [data]


class Command(BaseCommand):
    help = "Validate and load playbooks from YAML/JSON files; optionally publish them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument("--tenant", help="tenant to load into (else each playbook's tenant_id)")
        parser.add_argument("--publish", action="store_true", help="publish each playbook's latest version")

    def handle(self, *args: Any, **options: Any) -> None:
        loaded: list[tuple[str, dict[str, Any], str]] = []  # (tenant, document, label)
        problems: list[str] = []
        for path in _files(options["paths"]):
            try:
                documents = _documents(path)
            except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                problems.append(f"{path}: not valid YAML/JSON: {str(exc).splitlines()[0]}")
                continue
            for index, document in enumerate(documents):
                name = document.get("name") if isinstance(document, dict) else None
                label = f"{path}: {name or f'#{index}'}"
                tenant = options["tenant"] or (
                    document.get("tenant_id") if isinstance(document, dict) else None
                )
                if not tenant:
                    problems.append(f"{label}: tenant_id: is required (in the file or with --tenant)")
                _, found = validate_playbook(document)
                problems += [f"{label}: {p.field or 'playbook'}: {p.message}" for p in found]
                if isinstance(document, dict):
                    loaded.append((tenant, {k: v for k, v in document.items() if k != "tenant_id"}, label))
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"{len(problems)} problem(s) found; nothing was loaded")

        try:
            self._load(loaded, publish=options["publish"])
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.fields or ''}; nothing was loaded") from exc

    def _load(self, loaded: list[tuple[str, dict[str, Any], str]], *, publish: bool) -> None:
        # One transaction per region, each in its region's database (NFR-3): with several
        # regions, a failure in a later region leaves the earlier regions' playbooks loaded.
        by_region: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
        for item in loaded:
            by_region.setdefault(region_of(item[0]), []).append(item)
        for alias, items in by_region.items():
            with region_context(alias), tenant_atomic():
                self._load_region(items, publish=publish)

    def _load_region(self, loaded: list[tuple[str, dict[str, Any], str]], *, publish: bool) -> None:
        for tenant, document, label in loaded:
            playbook, change = playbook_upsert(tenant_id=tenant, document=document, actor_id=LOADER_ACTOR)
            published = ""
            if publish and (
                playbook.status != PlaybookStatus.PUBLISHED
                or playbook.published_version_id is None
                or playbook.published_version.version != playbook.latest_version
            ):
                playbook = playbook_publish(playbook=playbook, actor_id=LOADER_ACTOR)
                published = ", published"
            self.stdout.write(f"{label}: {change} v{playbook.latest_version}{published} (tenant {tenant})")
