"""Account settings: the company's users and invitations (views.py), My access and requests
for more (access_views.py), sign-in with Microsoft Entra ID (entra_views.py)."""

from django.urls import path

from . import access_views

app_name = "accounts"

urlpatterns = []

# My access, and asking for more.
urlpatterns += [
    path("account/myaccess", access_views.my_access, name="my_access"),
    path("account/myaccess/request", access_views.request_access, name="request_access"),
    path(
        "account/myaccess/<int:request_id>/withdraw",
        access_views.withdraw,
        name="withdraw_access_request",
    ),
    path("account/requests", access_views.access_requests, name="access_requests"),
    path(
        "account/requests/<int:request_id>/approve",
        access_views.approve,
        name="approve_access_request",
    ),
    path(
        "account/requests/<int:request_id>/decline",
        access_views.decline,
        name="decline_access_request",
    ),
]
