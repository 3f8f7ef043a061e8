"""Gunicorn settings for the web process (Procfile ``web``), overridable from the environment.

Prometheus metrics from several worker processes are merged through PROMETHEUS_MULTIPROC_DIR
(prometheus_client multiprocess mode); the folder is emptied at start and dead workers' files
are marked so gauges do not keep stale values. Tracing (FR-15) is set up in each worker after
the fork (``post_fork``): a span exporter's background thread does not survive a fork.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # seconds
accesslog = "-"
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): two services
# on a host would take each other's. It lives in this instance's state folder instead.
_state_dir = Path(os.environ.get("LOCAL_STATE_DIR", "var"))
_state_dir.mkdir(parents=True, exist_ok=True)
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or str(_state_dir / "gunicorn.ctl")

_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path("var") / "prometheus"))


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def post_fork(server, worker):
    from mmm_project import tracing

    tracing.setup("web")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
