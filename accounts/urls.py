"""Account settings: the company's users and invitations (views.py), My access and requests
for more (access_views.py), sign-in with Microsoft Entra ID (entra_views.py)."""

from django.urls import path

from . import access_views, entra_views, views

app_name = "accounts"

urlpatterns = [
    # Account settings → Users, and the page an invitation's link opens (signed out too).
    path("account/users", views.users, name="users"),
    path("account/users/invite", views.invite, name="invite"),
    path("account/users/<int:user_id>", views.user, name="user"),
    path("account/users/<int:user_id>/roles", views.change_roles, name="change_roles"),
    *(
        path(
            f"account/users/<int:user_id>/{action}",
            views.user_action,
            {"action": action},
            name=action,
        )
        for action in views.ACTIONS
    ),
    path("account/invitation/<str:key>", views.invitation, name="invitation"),
]

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

# Account settings → Sign-in: Microsoft Entra ID.
urlpatterns += [
    path("account/signin", entra_views.sign_in_settings, name="entra"),
    path("account/signin/disconnect", entra_views.disconnect, name="entra_disconnect"),
    path("account/signin/groups", entra_views.add_group_role, name="entra_add_group"),
    path(
        "account/signin/groups/<int:mapping_id>/remove",
        entra_views.remove_group_role,
        name="entra_remove_group",
    ),
]
