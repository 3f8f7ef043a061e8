"""A gunicorn worker opens its connections and loads Celery's task modules before its first request
(``mmm_project.processes.warm_up``, NFR-1), and still starts when a peer is down."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection

from mmm_project.processes.warm_up import warm_up

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_warm_up_opens_the_database_connection_and_loads_the_task_modules(monkeypatch):
    from mmm_project.celery import app

    loaded = []
    monkeypatch.setattr(app.loader, "import_default_modules", lambda: loaded.append(1))
    connection.close()
    assert connection.connection is None
    assert warm_up() == []
    assert connection.connection is not None
    assert loaded == [1]


@pytest.mark.django_db(transaction=True)
def test_a_peer_down_at_start_is_named_not_fatal(monkeypatch, capfd):
    def refuse():
        raise OperationalError("connection refused")

    def cache_down(key):
        raise ConnectionError("redis down")

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    from django.core.cache import caches

    monkeypatch.setattr(caches["default"], "get", cache_down)
    assert warm_up() == ["database:default", "cache:default"]
    assert '"message":"worker warm-up incomplete"' in capfd.readouterr().out  # the JSON log line


def test_gunicorn_warms_each_worker_up_before_freezing_it(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("mmm_project.processes.warm_up.warm_up", lambda: calls.append("warm") or [])
    monkeypatch.setattr(
        "mmm_project.processes.memory.freeze_loaded_objects", lambda: calls.append("freeze") or 1
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    config.post_worker_init(SimpleNamespace(pid=1, log=SimpleNamespace(info=lambda *args: None)))
    assert calls == ["warm", "freeze"]  # what the warm-up loads is frozen with the app
