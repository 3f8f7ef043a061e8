"""WSGI entry point (gunicorn ``mmm_project.wsgi``); refuses to load with bad production secrets."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")
application = get_wsgi_application()

from mmm_project.checks import refuse_to_start  # noqa: E402 - needs the apps loaded above

refuse_to_start()
