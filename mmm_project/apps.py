from django.apps import AppConfig


class MMMProjectConfig(AppConfig):
    """Project-level app: cross-cutting management commands (``mint_token``), system checks and the
        collectors computed at scrape time (queue depth; live processes in multiprocess mode), the
    regions of data residency (NFR-3), and broker work deferred until a response is sent."""

    name = "mmm_project"
    label = "mmm_project"
    verbose_name = "MMM Engine"

    def ready(self) -> None:
        from django.conf import settings
        from django.core import checks
        from django.core.signals import request_finished, request_started, setting_changed
        from django.db.models.signals import pre_save

        from mmm_project import residency
        from mmm_project.background import after_response
        from mmm_project.checks import SECRETS_TAG, production_secrets
        from mmm_project.metrics import SCRAPE_REGISTRY
        from mmm_project.observability.multiproc import LiveProcessesCollector, metrics_dir
        from mmm_project.observability.queues import QueueDepthCollector
        from mmm_project.residency import celery as residency_celery  # noqa: F401 - connects its signals
        from mmm_project.residency.router import check_row_region

        checks.register(production_secrets, SECRETS_TAG, checks.Tags.security)
        # Broker publishes of a request wait until its response is sent (NFR-1).
        request_started.connect(after_response.request_started, dispatch_uid="mmm-after-response-start")
        request_finished.connect(after_response.request_finished, dispatch_uid="mmm-after-response-end")
        residency.configure(aliases=list(settings.DATABASES), tenant_regions=settings.TENANT_REGIONS)
        setting_changed.connect(_reconfigure_residency, dispatch_uid="mmm-residency-settings")
        if residency.multi_region():  # one region: nothing to check, no cost on saves
            pre_save.connect(check_row_region, dispatch_uid="mmm-residency-row-region")
        if not getattr(SCRAPE_REGISTRY, "_mmm_operations", False):
            SCRAPE_REGISTRY.register(QueueDepthCollector())
            if directory := metrics_dir():
                SCRAPE_REGISTRY.register(LiveProcessesCollector(directory))
            SCRAPE_REGISTRY._mmm_operations = True


def _reconfigure_residency(*, setting: str, **kwargs: object) -> None:
    """Tests pin tenants with ``override_settings(TENANT_REGIONS=...)``."""
    if setting == "TENANT_REGIONS":
        from django.conf import settings

        from mmm_project import residency

        residency.configure(aliases=list(settings.DATABASES), tenant_regions=settings.TENANT_REGIONS)
