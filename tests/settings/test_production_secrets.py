"""Production (DEBUG off) refuses to start with an empty or malformed secret; DEBUG keeps local keys."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import SystemCheckError
from django.test import override_settings

from mmm_project.checks import production_secrets, refuse_to_start
from mmm_project.local_state import local_secret
from tests.integration.helpers import ROOT, child_env, manage

SECRET_NAMES = ("SECRET_KEY", "JWT_JWKS", "RECEIPT_SIGNING_KEY", "WEBHOOK_ENCRYPTION_KEYS")


def _jwks() -> str:
    public = Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "iam-1", "alg": "EdDSA"}]})


def proper_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_JWKS": _jwks(),
        "RECEIPT_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "WEBHOOK_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
    }


def _ids(**overrides: str) -> list[str]:
    with override_settings(DEBUG=False, LOCAL_KEYS=False, **{**proper_secrets(), **overrides}):
        return [error.id for error in production_secrets()]


def test_proper_production_secrets_pass():
    assert _ids() == []


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("SECRET_KEY", "", "mmm.E001"),
        ("SECRET_KEY", "change-me-to-50-random-characters-change-me-to-50-random", "mmm.E001"),
        ("SECRET_KEY", "insecure-embedded-default-do-not-use-in-production", "mmm.E001"),
        ("SECRET_KEY", "x" * 60, "mmm.E001"),
        ("SECRET_KEY", secrets.token_urlsafe(20), "mmm.E001"),
        ("JWT_JWKS", "", "mmm.E002"),
        ("JWT_JWKS", '{"keys": []}', "mmm.E002"),
        ("JWT_JWKS", '{"keys": [{"kty": "OKP", "crv": "Ed25519"}]}', "mmm.E002"),
        ("JWT_JWKS", "{not json", "mmm.E002"),
        ("JWT_JWKS", "/nonexistent/jwks.json", "mmm.E002"),
        ("RECEIPT_SIGNING_KEY", "", "mmm.E003"),
        ("RECEIPT_SIGNING_KEY", "not base64 at all!", "mmm.E003"),
        ("RECEIPT_SIGNING_KEY", "A" * 44, "mmm.E003"),  # 33 bytes
        ("RECEIPT_SIGNING_KEY", base64.b64encode(b"s" * 16).decode(), "mmm.E003"),
        ("WEBHOOK_ENCRYPTION_KEYS", "", "mmm.E004"),
        ("WEBHOOK_ENCRYPTION_KEYS", " , ", "mmm.E004"),
        ("WEBHOOK_ENCRYPTION_KEYS", "short", "mmm.E004"),
        ("WEBHOOK_ENCRYPTION_KEYS", f"{Fernet.generate_key().decode()},short", "mmm.E004"),
    ],
)
def test_each_empty_or_malformed_secret_is_an_error(name, value, check_id):
    # given production with every other secret proper, when the checks run, then exactly this one fails
    assert _ids(**{name: value}) == [check_id]


def test_errors_name_the_variable_never_the_value():
    bad_seed = base64.b64encode(b"s" * 16).decode()
    with override_settings(
        DEBUG=False, LOCAL_KEYS=False, **{**proper_secrets(), "RECEIPT_SIGNING_KEY": bad_seed}
    ):
        (error,) = production_secrets()
    assert "RECEIPT_SIGNING_KEY" in error.msg
    assert bad_seed not in error.msg + error.hint


def test_debug_keeps_the_embedded_defaults():
    with override_settings(DEBUG=True, **dict.fromkeys(SECRET_NAMES, "")):
        assert production_secrets() == []
        refuse_to_start()  # nothing to refuse


def test_refuse_to_start_lists_every_problem():
    with override_settings(DEBUG=False, LOCAL_KEYS=False, **dict.fromkeys(SECRET_NAMES, "")):
        with pytest.raises(SystemCheckError) as raised:
            refuse_to_start()
    assert all(name in str(raised.value) for name in SECRET_NAMES)


def test_local_keys_are_never_generated_in_production(tmp_path):
    with override_settings(LOCAL_KEYS=False):
        with pytest.raises(ImproperlyConfigured, match="only while DEBUG is on"):
            local_secret(tmp_path, "receipt.seed", lambda: b"seed")
    assert not (tmp_path / "keys").exists()


def _production_env(tmp_path, **overrides: str) -> dict[str, str]:
    # .env.example's production values: DEBUG off and the secrets left empty
    env = child_env(tmp_path, DEBUG="false", ALLOWED_HOSTS="mmm.example", **dict.fromkeys(SECRET_NAMES, ""))
    env.update(overrides)
    return env


@pytest.mark.slow
def test_manage_check_refuses_env_example_values_and_passes_proper_ones(tmp_path):
    # given DEBUG off with the secrets empty, as .env.example ships them
    refused = manage(["check"], _production_env(tmp_path))
    assert refused.returncode != 0
    assert all(name in refused.stderr for name in SECRET_NAMES)
    assert not (tmp_path / "state" / "keys").exists()  # no key was made up on disk
    # when every secret is set properly, then check passes, and --deploy warns only about
    # SECURE_SSL_REDIRECT (TLS and its redirect live in the proxy; README, Configuration)
    env = _production_env(tmp_path, **proper_secrets())
    assert manage(["check"], env).returncode == 0
    deploy = manage(["check", "--deploy"], env)
    assert deploy.returncode == 0, deploy.stderr
    assert re.findall(r"\((\w+\.\w+)\)", deploy.stderr) == ["security.W008"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import mmm_project.wsgi"],  # what gunicorn loads
        [sys.executable, "-c", "import mmm_project.asgi"],
        [sys.executable, "-m", "celery", "-A", "mmm_project", "worker", "--pool", "solo"],
        [sys.executable, "-m", "celery", "-A", "mmm_project", "beat", "--schedule", "BEAT"],
    ],
    ids=["wsgi", "asgi", "celery-worker", "celery-beat"],
)
def test_web_and_celery_processes_refuse_to_start(tmp_path, command):
    # given a malformed receipt key (the others proper) and no broker (memory transport)
    env = _production_env(tmp_path, **{**proper_secrets(), "RECEIPT_SIGNING_KEY": "A" * 44})
    command = [str(tmp_path / "beat") if part == "BEAT" else part for part in command]
    # when the process starts, then it exits (a worker that started would run until the timeout)
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "mmm.E003" in result.stderr
