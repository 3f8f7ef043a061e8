"""System checks that keep production (``DEBUG`` off) from starting with missing or bad secrets.

Each secret is decoded the way the engine will use it, so a malformed value fails here, at start,
rather than at the first receipt, webhook or request:

* ``SECRET_KEY``: at least 50 characters, 5 of them distinct, not a placeholder (``mmm.E001``);
* ``JWT_JWKS``: a JSON Web Key Set (text or a file path) with at least one usable key (``mmm.E002``);
* ``RECEIPT_SIGNING_KEY``: base64 of a 32-byte Ed25519 seed (RFC 8032) (``mmm.E003``);
* ``WEBHOOK_ENCRYPTION_KEYS``: comma-separated Fernet keys, every one valid (``mmm.E004``).

Registered by ``MMMProjectConfig.ready``. Django runs them in the management commands that check
(``check``, ``migrate``, ``runserver``, ``consume_signals``...); ``refuse_to_start`` runs them for
the entry points Django does not check: the WSGI and ASGI applications (gunicorn) and Celery's
worker and beat. With ``DEBUG`` on they report nothing: the embedded default generates local keys.
Messages name the variable and the problem, never the value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import SystemCheckError

from mmm_project.auth.keys import _load_key_set as load_key_set  # the loader requests use

SECRETS_TAG = "mmm_secrets"
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
# Values copied from .env.example or the embedded default must not pass as production secrets.
PLACEHOLDERS = ("change-me", "insecure", "django-insecure")


def secret_key_problem(value: str) -> str | None:
    if not value:
        return "is empty"
    if any(value.startswith(prefix) for prefix in PLACEHOLDERS):
        return "is a placeholder; generate a random one"
    if len(value) < SECRET_KEY_MIN_LENGTH or len(set(value)) < SECRET_KEY_MIN_UNIQUE:
        return f"needs at least {SECRET_KEY_MIN_LENGTH} random characters ({SECRET_KEY_MIN_UNIQUE} distinct)"
    return None


def jwks_problem(value: str) -> str | None:
    """The key set must parse (RFC 7517) and hold a key PyJWT can verify with."""
    if not value.strip():
        return "is empty; set the IAM's JSON Web Key Set (JSON text or a file path)"
    try:
        load_key_set(value, str(settings.LOCAL_STATE_DIR))
    except OSError:
        return "names a file that cannot be read"
    except (ValueError, TypeError, AttributeError, jwt.PyJWKError, jwt.PyJWKSetError):
        return "is not a JSON Web Key Set with at least one usable key"
    return None


def receipt_signing_key_problem(value: str) -> str | None:
    """Base64 (standard alphabet, padded) of a 32-byte Ed25519 seed, as ``receipts.signing`` reads it."""
    if not value.strip():
        return "is empty; set base64 of a 32-byte Ed25519 seed"
    try:
        seed = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64"
    if len(seed) != 32:
        return f"decodes to {len(seed)} bytes; an Ed25519 seed is 32"
    Ed25519PrivateKey.from_private_bytes(seed)
    return None


def webhook_encryption_keys_problem(value: str) -> str | None:
    """Comma-separated Fernet keys (url-safe base64 of 32 bytes); the first encrypts."""
    keys = [key.strip() for key in value.split(",")]
    if not any(keys):
        return "is empty; set one or more Fernet keys, comma-separated"
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, binascii.Error):
            return f"key {position} of {len(keys)} is not a Fernet key (url-safe base64 of 32 bytes)"
    return None


def _secret_key() -> str:
    try:
        return str(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty SECRET_KEY
        return ""


PRODUCTION_SECRETS: tuple[tuple[str, str, Callable[[], str], Callable[[str], str | None]], ...] = (
    ("mmm.E001", "SECRET_KEY", _secret_key, secret_key_problem),
    ("mmm.E002", "JWT_JWKS", lambda: settings.JWT_JWKS, jwks_problem),
    ("mmm.E003", "RECEIPT_SIGNING_KEY", lambda: settings.RECEIPT_SIGNING_KEY, receipt_signing_key_problem),
    (
        "mmm.E004",
        "WEBHOOK_ENCRYPTION_KEYS",
        lambda: settings.WEBHOOK_ENCRYPTION_KEYS,
        webhook_encryption_keys_problem,
    ),
)


def production_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """One ``checks.Error`` per missing or malformed production secret; none when the process
    started with ``DEBUG`` on (``LOCAL_KEYS``: the embedded default, whose keys are generated; the
    test runner turning ``DEBUG`` off later does not make a process production)."""
    if settings.DEBUG or settings.LOCAL_KEYS:
        return []
    errors: list[checks.CheckMessage] = []
    for check_id, name, read, problem_of in PRODUCTION_SECRETS:
        problem = problem_of(read() or "")
        if problem:
            errors.append(
                checks.Error(
                    f"{name} {problem}.",
                    hint=f"Required when DEBUG is off; see .env.example ({name}).",
                    id=check_id,
                )
            )
    return errors


def refuse_to_start() -> None:
    """Raise ``SystemCheckError`` listing every failed secret check (for gunicorn and Celery).

    Raises:
        SystemCheckError: one line per problem, as ``manage.py check`` prints them.
    """
    errors = [m for m in checks.run_checks(tags=[SECRETS_TAG]) if m.is_serious() and not m.is_silenced()]
    if errors:
        lines = "\n".join(f"{m.id}: {m.msg} HINT: {m.hint}" for m in errors)
        raise SystemCheckError(f"The MMM Engine refuses to start:\n{lines}")
