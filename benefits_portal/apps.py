from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The core floor: settings, URLs, the Celery app, and what every room shares (limits,
    input normalisation, the shared cache's table)."""

    name = "benefits_portal"
    verbose_name = "Portal"
