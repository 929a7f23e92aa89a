"""Account settings: the company's users and invitations (views.py), My access and requests
for more (access_views.py), sign-in with Microsoft Entra ID (entra_views.py)."""

app_name = "accounts"

urlpatterns = []

# Account settings → Sign-in: Microsoft Entra ID.
from django.urls import path  # noqa: E402

from . import entra_views  # noqa: E402

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
