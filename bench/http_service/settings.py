"""The project's settings with the benchmark's URL configuration (``bench.http_service.urls``)."""

from mmm_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http_service.urls"
