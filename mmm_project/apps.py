from django.apps import AppConfig


class MMMProjectConfig(AppConfig):
    """Project-level app: cross-cutting management commands (``mint_token``) and system checks."""

    name = "mmm_project"
    label = "mmm_project"
    verbose_name = "MMM Engine"

    def ready(self) -> None:
        from django.core import checks

        from mmm_project.checks import SECRETS_TAG, production_secrets

        checks.register(production_secrets, SECRETS_TAG, checks.Tags.security)
