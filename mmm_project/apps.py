from django.apps import AppConfig


class MMMProjectConfig(AppConfig):
    """Project-level app: cross-cutting management commands (``mint_token``), system checks and the
        collectors computed at scrape time (queue depth; live processes in multiprocess mode), and the
    regions of data residency (NFR-3)."""

    name = "mmm_project"
    label = "mmm_project"
    verbose_name = "MMM Engine"

    def ready(self) -> None:
        from django.conf import settings
        from django.core import checks

        from mmm_project import residency
        from mmm_project.checks import SECRETS_TAG, production_secrets
        from mmm_project.metrics import SCRAPE_REGISTRY
        from mmm_project.observability.multiproc import LiveProcessesCollector, metrics_dir
        from mmm_project.observability.queues import QueueDepthCollector
        from mmm_project.residency import celery as residency_celery  # noqa: F401 - connects its signals

        checks.register(production_secrets, SECRETS_TAG, checks.Tags.security)
        residency.configure(aliases=list(settings.DATABASES), tenant_regions=settings.TENANT_REGIONS)
        if not getattr(SCRAPE_REGISTRY, "_mmm_operations", False):
            SCRAPE_REGISTRY.register(QueueDepthCollector())
            if directory := metrics_dir():
                SCRAPE_REGISTRY.register(LiveProcessesCollector(directory))
            SCRAPE_REGISTRY._mmm_operations = True
