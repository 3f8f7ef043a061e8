from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "decisions"

    def ready(self) -> None:
        from decisions.backlog import BacklogCollector
        from mmm_project.metrics import SCRAPE_REGISTRY

        # Computed when scraped: one collector per process, whatever asks.
        if not getattr(SCRAPE_REGISTRY, "_mmm_backlog", False):
            SCRAPE_REGISTRY.register(BacklogCollector())
            SCRAPE_REGISTRY._mmm_backlog = True
