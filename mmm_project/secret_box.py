"""Encryption at rest for secrets the engine must read back (GitHub webhook HMAC secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``). ``WEBHOOK_ENCRYPTION_KEYS`` holds one
or more Fernet keys, comma-separated: the first encrypts, all decrypt, so keys rotate without
re-encrypting everything at once. Embedded default: a key generated under ``LOCAL_STATE_DIR``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from mmm_project.local_state import local_secret

LOCAL_KEY_FILE = "webhook-fernet.key"


def _local_key(state_dir: Path) -> bytes:
    return local_secret(state_dir, LOCAL_KEY_FILE, Fernet.generate_key).strip()


@lru_cache(maxsize=4)
def _cipher(keys_setting: str, state_dir: str) -> MultiFernet:
    keys = [k.strip().encode() for k in keys_setting.split(",") if k.strip()] or [_local_key(Path(state_dir))]
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _cipher(settings.WEBHOOK_ENCRYPTION_KEYS, str(settings.LOCAL_STATE_DIR))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str | None:
    """The plaintext, or None when no configured key opens the token."""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
