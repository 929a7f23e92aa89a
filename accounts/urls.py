"""Account settings: the company's users and invitations (views.py), My access and requests
for more (access_views.py), sign-in with Microsoft Entra ID (entra_views.py)."""

app_name = "accounts"

urlpatterns = []
