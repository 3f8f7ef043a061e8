"""WSGI entry point (gunicorn ``mmm_project.wsgi``); refuses to load with bad production secrets.

Tracing (FR-15) is set up before the application so Django's instrumentation joins its middleware;
gunicorn's ``post_fork`` (gunicorn.conf.py) has usually done it already in the worker.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")

from mmm_project import tracing

tracing.setup("web")
application = get_wsgi_application()

from mmm_project.checks import refuse_to_start  # noqa: E402 - needs the apps loaded above

refuse_to_start()
