"""Secrets the embedded default generates for itself under ``LOCAL_STATE_DIR/keys``.

Production sets each one from the environment; without it (DEBUG only), the engine creates the
file once and reuses it on every later run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def local_secret(state_dir: Path, name: str, generate: Callable[[], bytes]) -> bytes:
    """The contents of ``state_dir/keys/name``, created with ``generate()`` (mode 0600) if absent.

    O_EXCL makes two processes starting together agree on one file instead of overwriting it.

    Raises:
        ImproperlyConfigured: ``DEBUG`` was off at start-up (``LOCAL_KEYS``): production never
            makes up its own secrets, even in a process that skipped the system checks.
    """
    if not settings.LOCAL_KEYS:
        raise ImproperlyConfigured(f"{name} is generated only while DEBUG is on; set its variable instead.")
    path = state_dir / "keys" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(generate())
    return path.read_bytes()
