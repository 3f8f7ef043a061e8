"""ASGI entry point; refuses to load with bad production secrets. Tracing (FR-15) as in ``wsgi``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmm_project.settings")

from mmm_project import tracing

tracing.setup("web")
application = get_asgi_application()

from mmm_project.checks import refuse_to_start  # noqa: E402 - needs the apps loaded above

refuse_to_start()
