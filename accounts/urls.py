"""Account settings: the company's users and invitations (views.py), My access and requests
for more (access_views.py), sign-in with Microsoft Entra ID (entra_views.py)."""

from django.urls import path

from . import views

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
