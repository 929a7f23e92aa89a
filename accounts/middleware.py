from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.urls import reverse
from django.utils.translation import gettext as _

from entitlements.permissions import needs_two_factor

from .decorators import redirect_to

# Where an account without two-factor authentication may still go: setting it up, signing
# out, choosing a language, and the static files those pages need.
OPEN_PATHS = ("/accounts/", "/i18n/", "/static/")


def has_authenticator_app(user):
    """Read with the user by accounts.backends.PortalBackend; asked here otherwise."""
    known = getattr(user, "has_authenticator_app", None)
    if known is not None:
        return known
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireTwoFactorMiddleware:
    """allauth's MFA is optional for everyone; here it becomes required for some.

    An account that must use it and has no authenticator app yet is sent to set one up before
    anything else. (Signing in then asks for its code: allauth does that for every account
    that has one.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            needs_two_factor(user)
            and not request.path.startswith(OPEN_PATHS)
            and not has_authenticator_app(user)
        ):
            messages.warning(
                request,
                _(
                    "Your role requires two-factor authentication. Set up an authenticator "
                    "app to continue."
                ),
            )
            return redirect_to(request, reverse("mfa_activate_totp"))
        return self.get_response(request)
