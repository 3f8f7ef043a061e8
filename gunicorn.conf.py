"""Gunicorn settings for the web process (Procfile ``web``), overridable from the environment.

Binds to ``GUNICORN_BIND``, else 127.0.0.1:``$PORT`` (honcho sets it; 8000 without it). Logs are JSON
lines on stdout, the access log included (``mmm_project.observability.logs``). Prometheus metrics
of every process are merged through one PROMETHEUS_MULTIPROC_DIR shared with the Celery processes
(``mmm_project.observability.multiproc``): it is never emptied at start, ended processes' live
gauges are dropped. Tracing (FR-15) is set up in each
worker after the fork (``post_fork``): a span exporter's background thread does not survive a fork.
Once a worker has loaded the app and opened its connections (``mmm_project.processes.warm_up``), its
objects are set aside from the garbage collector
(``post_worker_init``, ``mmm_project.processes.memory``), and automatic collections wait while a request
is answered (``pre_request`` to ``post_request``): they run once its response is written.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Before prometheus_client is imported: it picks its multiprocess mode from the variable at import.
_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path("var") / "prometheus"))

from mmm_project.observability import multiproc  # noqa: E402 - after the project is importable
from mmm_project.observability.logs import gunicorn_logging_config  # noqa: E402

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT') or 8000}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # seconds
accesslog = "-"
access_log_format = "request"  # AccessJsonFormatter writes the fields; never the raw request line
logconfig_dict = gunicorn_logging_config(os.environ.get("LOG_LEVEL", "INFO"))
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): two services
# on a host would take each other's. It lives in this instance's state folder instead.
_state_dir = Path(os.environ.get("LOCAL_STATE_DIR", "var"))
_state_dir.mkdir(parents=True, exist_ok=True)
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or str(_state_dir / "gunicorn.ctl")


def on_starting(server):
    multiproc.sweep_ended_processes(_metrics_dir)


def post_fork(server, worker):
    from mmm_project import tracing

    tracing.setup("web")


def post_worker_init(worker):
    from mmm_project.processes.memory import freeze_loaded_objects
    from mmm_project.processes.warm_up import warm_up

    warm_up()  # connections and Celery's task modules, before the first request (NFR-1)
    frozen = freeze_loaded_objects()  # full collections no longer scan the loaded app (~77 ms each)
    worker.log.info("worker %s: %d loaded objects set aside from the garbage collector", worker.pid, frozen)


def pre_request(worker, req):
    from mmm_project.processes.memory import pause_collections

    pause_collections()  # the collections a request triggers run after its response (post_request)


def post_request(worker, req, environ, resp):
    from mmm_project.processes.memory import resume_collections

    resume_collections()


def child_exit(server, worker):
    multiproc.process_exited(worker.pid)
