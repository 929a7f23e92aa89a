from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices"

    def ready(self):
        from accounts.backends import PER_REQUEST_FACTS

        from .services import unread_count_expression

        # The bell's count comes with the signed-in user's own query, on every page.
        PER_REQUEST_FACTS["unread_notices"] = unread_count_expression
