from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "cancellations"
    verbose_name = "Cancellations"

    def ready(self):
        from entitlements.signals import benefit_used

        from . import services

        # A benefit used while a cancellation waits ends its refund: the request is declined.
        benefit_used.connect(services.decline_on_use, dispatch_uid="cancellations.decline_on_use")
