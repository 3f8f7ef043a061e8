"""Beat keeps its schedule under LOCAL_STATE_DIR and creates that folder: it starts on a fresh
checkout or host, where ``var/`` does not exist yet (the Procfile names no schedule path)."""

from __future__ import annotations

from django.conf import settings

from mmm_project.celery import app
from mmm_project.processes.beat import LocalStateScheduler


def test_the_schedule_lives_under_the_local_state_dir():
    from mmm_project import settings as configured  # as the process read it, before any test override

    assert app.conf.beat_scheduler == "mmm_project.processes.beat:LocalStateScheduler"
    assert app.conf.beat_schedule_filename == str(configured.LOCAL_STATE_DIR / "celerybeat-schedule")


def test_beat_creates_the_schedule_folder(tmp_path):
    filename = tmp_path / "not" / "there" / "celerybeat-schedule"
    scheduler = LocalStateScheduler(app=app, schedule_filename=str(filename), lazy=True)
    scheduler.setup_schedule()
    try:
        assert filename.parent.is_dir()
        assert set(scheduler.schedule) >= set(settings.CELERY_BEAT_SCHEDULE)
    finally:
        scheduler.close()
