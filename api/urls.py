from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("account/api-tokens", views.tokens, name="tokens"),
    path("account/api-tokens/<int:token_id>/revoke", views.revoke, name="revoke"),
    path("account/webhooks", views.webhooks_page, name="webhooks"),
    path("account/webhooks/<int:endpoint_id>", views.webhook, name="webhook"),
    path(
        "account/webhooks/<int:endpoint_id>/enabled",
        views.webhook_enabled,
        name="webhook_enabled",
    ),
    path("account/webhooks/<int:endpoint_id>/remove", views.webhook_remove, name="webhook_remove"),
    path(
        "account/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver",
        views.redeliver,
        name="redeliver",
    ),
]
