"""Each account's language: the pages start in it after sign-in, and choosing another in the
language switch keeps it on the account. A signed-out visitor's language is Django's: the
switch's cookie, else the browser's."""

from django.conf import settings
from django.utils import translation
from django.views import i18n

from .models import User


def supported(code):
    """The portal's code for the language `code` names (any case, e.g. "zh-Hans" -> "zh-hans"),
    or "" if the portal doesn't speak it."""
    code = str(code or "").lower()
    return code if code in dict(settings.LANGUAGES) else ""


def save_language(user, code):
    """Keep `code` as the language `user` reads; one of settings.LANGUAGES, else nothing
    changes. Returns whether it was saved. A preference, not a credential: not audited."""
    code = supported(code)
    if not code or not user.is_authenticated:
        return False
    User.objects.filter(pk=user.pk).update(language=code)
    user.language = code
    return True


class AccountLanguageMiddleware:
    """A signed-in account that has chosen a language reads every page in it, whatever the
    browser asks for or the cookie says (LocaleMiddleware, earlier, decided for everyone
    else). After SignedOutReasonMiddleware, which must be the first to read the user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        language = user.is_authenticated and supported(user.language)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def set_language(request):
    """Django's set_language (the cookie, the redirect to `next`), and for a signed-in person
    their account's language too, so the next sign-in, on any browser, starts in it."""
    response = i18n.set_language(request)
    if request.method == "POST":
        save_language(request.user, request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER))
    return response


def keep_the_language_signed_in_with(request, user):
    """At sign-in, an account without a language yet keeps the one its pages were in."""
    if not user.language and request is not None:
        save_language(user, getattr(request, "LANGUAGE_CODE", "") or translation.get_language())
