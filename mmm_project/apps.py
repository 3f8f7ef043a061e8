from django.apps import AppConfig


class MMMProjectConfig(AppConfig):
    """Project-level app: holds cross-cutting management commands (``mint_token``), no models."""

    name = "mmm_project"
    label = "mmm_project"
    verbose_name = "MMM Engine"
