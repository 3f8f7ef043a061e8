"""Settings from the environment, migrations on SQLite, and the mint_token command."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command

from mmm_project.auth.tokens import decode_token
from tests.integration.helpers import ROOT, child_env, django_get, manage

SETTINGS_VARIABLE = re.compile(r"""env(?:\.\w+)?\(\s*"([A-Z0-9_]+)\"""")


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_documents_every_variable():
    read = set(SETTINGS_VARIABLE.findall((ROOT / "mmm_project" / "settings.py").read_text()))
    read |= set(
        re.findall(
            r'os\.environ\.(?:get|setdefault)\("([A-Z0-9_]+)"', (ROOT / "gunicorn.conf.py").read_text()
        )
    )
    assert read, "no variables found: the pattern is stale"
    assert read - _documented() == set()


@pytest.mark.slow
def test_migrations_apply_on_sqlite_from_nothing(tmp_path):
    env = child_env(tmp_path)  # embedded default: SQLite under LOCAL_STATE_DIR
    result = manage(["migrate", "--noinput"], env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "state" / "db.sqlite3").exists()
    check = manage(["migrate", "--check"], env)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_embedded_default_mode_serves_health(tmp_path):
    env = child_env(tmp_path)
    assert manage(["migrate", "--noinput"], env).returncode == 0
    assert django_get("/v1/mmm/health", env) == (200, {"status": "healthy"})
    status, body = django_get("/v1/mmm/ready", env)
    assert status == 200
    assert "broker" not in body["checks"]  # no broker in the embedded default


def test_mint_token_prints_a_verifiable_token(capsys):
    call_command(
        "mint_token",
        "--tenant",
        "acme",
        "--actor",
        "dev-1",
        "--actor-type",
        "ai_agent",
        "--roles",
        "tenant_admin",
        "--scopes",
        "mmm.read,mmm.decide",
        "--ttl",
        "120",
    )
    principal = decode_token(capsys.readouterr().out.strip())
    assert principal.tenant_id == "acme"
    assert principal.actor_id == "dev-1"
    assert principal.actor_type == "ai_agent"
    assert principal.roles == frozenset({"tenant_admin"})
    assert principal.scopes == frozenset({"mmm.read", "mmm.decide"})


def test_mint_token_defaults_to_all_scopes(capsys):
    call_command("mint_token", "--tenant", "acme", "--actor", "dev-1")
    assert decode_token(capsys.readouterr().out.strip()).scopes == {"mmm.decide", "mmm.read", "mmm.outcome"}


def test_mint_token_rejects_unknown_scope_and_bad_ttl():
    with pytest.raises(CommandError, match=r"unknown scopes: mmm\.write"):
        call_command("mint_token", "--tenant", "t", "--actor", "a", "--scopes", "mmm.write")
    with pytest.raises(CommandError, match="ttl_seconds"):
        call_command("mint_token", "--tenant", "t", "--actor", "a", "--ttl", "0")


def test_mint_token_refuses_when_an_iam_key_set_is_configured(settings):
    settings.JWT_JWKS = '{"keys": []}'
    with pytest.raises(CommandError, match="IAM"):
        call_command("mint_token", "--tenant", "t", "--actor", "a")
