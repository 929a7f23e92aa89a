from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"

    def ready(self):
        from entitlements.signals import account_left

        from .services import revoke_tokens_of

        def revoke(sender, user, actor, why, **kwargs):
            revoke_tokens_of(user, actor, why)

        account_left.connect(revoke, weak=False, dispatch_uid="api.revoke_tokens_of")
