"""Web and worker processes set the loaded app aside from the garbage collector (issue 13)."""

from __future__ import annotations

import gc
import importlib.util
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

from mmm_project.processes.memory import freeze_loaded_objects

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_full_collection_no_longer_scans_the_loaded_app(unfrozen):
    scanned_before = len(gc.get_objects())  # what a full collection walks: generations 0 to 2
    frozen = freeze_loaded_objects()
    assert frozen > 50_000  # Django, DRF, the apps, the URL patterns
    assert len(gc.get_objects()) < scanned_before / 10


def test_gunicorn_and_celery_processes_freeze_after_loading(unfrozen, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("mmm_project.processes.memory.freeze_loaded_objects", lambda: calls.append(1) or 1)
    # gunicorn.conf.py reads these at import; the test's own values, restored afterwards
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    logged = []
    log = SimpleNamespace(info=lambda message, *args: logged.append(message % args))
    worker = SimpleNamespace(pid=123, log=log)
    config.post_worker_init(worker)
    assert logged == ["worker 123: 1 loaded objects set aside from the garbage collector"]

    from celery import signals

    from mmm_project.processes.worker import _freeze_loaded_objects

    connected = [entry[1] for entry in signals.worker_process_init.receivers]
    live = [ref() if isinstance(ref, weakref.ReferenceType) else ref for ref in connected]
    assert _freeze_loaded_objects in live
    _freeze_loaded_objects()
    assert calls == [1, 1]


def test_gunicorn_workers_collect_between_requests_not_during_them(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    assert gc.isenabled()
    try:
        config.pre_request(SimpleNamespace(), SimpleNamespace())
        assert not gc.isenabled()
        garbage = [[] for _ in range(gc.get_threshold()[0] * 2)]  # past the young threshold
        assert gc.get_count()[0] > gc.get_threshold()[0]  # counted, not collected: it waits
        del garbage
        config.post_request(SimpleNamespace(), SimpleNamespace(), {}, None)
        assert gc.isenabled()
        more = [[] for _ in range(10)]  # the next allocations run the collection that fell due
        assert gc.get_count()[0] < gc.get_threshold()[0]
        del more
    finally:
        gc.enable()
