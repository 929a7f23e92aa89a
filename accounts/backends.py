from allauth.account.auth_backends import AuthenticationBackend
from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef

from .models import User

# More facts every page shows of the signed-in person, {attribute: a function returning the
# expression}, added by the rooms above this one (e.g. notices: the bell's unread count), so
# they come with the user's own query rather than one query each.
PER_REQUEST_FACTS = {}


class PortalBackend(AuthenticationBackend):
    """allauth's sign-in by email, loading each request's user together with their company
    and whether they have an authenticator app: every page asks for both, so this saves two
    queries on every request (and one more for each of PER_REQUEST_FACTS)."""

    def get_user(self, user_id):
        user = (
            User._default_manager.select_related("partner")
            .annotate(
                has_authenticator_app=Exists(
                    Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
                ),
                **{name: expression() for name, expression in PER_REQUEST_FACTS.items()},
            )
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
