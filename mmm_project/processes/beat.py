"""Celery beat's scheduler: Celery's own, keeping its schedule file under ``LOCAL_STATE_DIR``
(``CELERY_BEAT_SCHEDULE_FILENAME``) and creating that folder when it is missing, so beat starts on
a fresh checkout or host as the other processes do."""

from __future__ import annotations

from pathlib import Path

from celery.beat import PersistentScheduler


class LocalStateScheduler(PersistentScheduler):
    """``PersistentScheduler`` whose schedule file's folder is created before the file is opened."""

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()
