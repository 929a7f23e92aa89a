from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils.translation import gettext as _

from entitlements.permissions import needs_two_factor

from .decorators import redirect_to
from .entra import ENTRA_MFA_SESSION_KEY
from .models import SignedOut, recall_why

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
    that has one.) A session signed in with Microsoft Entra ID whose token says Entra did
    multi-factor authentication is let through (accounts.entra).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            needs_two_factor(user)
            and not request.path.startswith(OPEN_PATHS)
            and not has_authenticator_app(user)
            and not request.session.get(ENTRA_MFA_SESSION_KEY)
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


class SignedOutReasonMiddleware:
    """Tells a person whose session was ended why, once, on the next page (the sign-in page
    their stale tab is sent to).

    The reason is kept under the key of the session that was ended (accounts.models
    .end_sessions: a role removed, the account moved or deactivated), so it reaches only the
    browser that sends that key; a visitor without it learns nothing. A session whose
    account no longer signs in is read here too: Django empties it when the password changed
    since (someone else, or a reset link), and refuses a deactivated account's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        why = None
        if SESSION_KEY in session and not request.user.is_authenticated:
            # Emptied while reading the user: the password hash no longer matches.
            changed = SESSION_KEY not in session
            session.flush()
            why = SignedOut.PASSWORD_CHANGED if changed else SignedOut.DEACTIVATED
        elif not request.user.is_authenticated and (
            ended := request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        ):
            why = recall_why(ended)
        if why in SignedOut.values and not request.user.is_authenticated:
            messages.warning(request, SignedOut(why).label)
        return self.get_response(request)
