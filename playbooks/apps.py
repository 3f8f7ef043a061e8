from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "playbooks"

    def ready(self) -> None:
        from playbooks import receivers  # noqa: F401 - connects the cache invalidation receivers
