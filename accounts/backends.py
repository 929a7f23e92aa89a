from allauth.account.auth_backends import AuthenticationBackend
from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef

from .models import User


class PortalBackend(AuthenticationBackend):
    """allauth's sign-in by email, loading each request's user together with their company
    and whether they have an authenticator app: every page asks for both, so this saves two
    queries on every request."""

    def get_user(self, user_id):
        user = (
            User._default_manager.select_related("partner")
            .annotate(
                has_authenticator_app=Exists(
                    Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
                )
            )
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
