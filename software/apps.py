from django.apps import AppConfig


class SoftwareConfig(AppConfig):
    name = "software"
    verbose_name = "Software and cloud catalogue"
