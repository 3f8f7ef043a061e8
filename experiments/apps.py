from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "experiments"

    def ready(self) -> None:
        from experiments import receivers  # noqa: F401 - connects the cache invalidation receivers
