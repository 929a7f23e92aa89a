from django.urls import path

from . import views

app_name = "api_tokens"

urlpatterns = [
    path("account/api-tokens", views.tokens, name="tokens"),
    path("account/api-tokens/<int:token_id>/revoke", views.revoke, name="revoke"),
]
