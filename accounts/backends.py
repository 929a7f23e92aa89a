from allauth.account.auth_backends import AuthenticationBackend

from .models import User


class PortalBackend(AuthenticationBackend):
    """allauth's sign-in by email, loading each request's user together with their company:
    every page asks for the company, so this saves a query on every request."""

    def get_user(self, user_id):
        user = User._default_manager.select_related("partner").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
