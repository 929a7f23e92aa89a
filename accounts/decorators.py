"""Signed-in pages, and where a visitor whose session ended is sent instead."""

import functools
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def login_required(view):
    """Run the view for a signed-in user; send anyone else to sign in, and back afterwards.

    Django's own decorator sends back to the URL asked for, which is wrong in two cases a
    stale tab meets: a form's POST-only URL (after signing in, a GET of it is a 405) and an
    htmx fragment (the sign-in page would be swapped into a row of the page). Here both go
    back to the page the person was looking at, and a refused form says that nothing was
    done.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        return ask_to_sign_in(request)

    return wrapper


def ask_to_sign_in(request):
    """The answer to a request whose session ended: to the sign-in page, and back to the page
    the person was on afterwards. A refused form says that nothing was done."""
    if request.method not in ("GET", "HEAD") and not is_htmx(request):
        messages.info(
            request,
            _("Your session had ended, so nothing was done. Sign in, then select it again."),
        )
    return redirect_to(request, resolve_url(settings.LOGIN_URL))


def redirect_to(request, url):
    """A redirect to `url` with `next` set to the page the person was looking at: the URL of
    a GET, the page a form was posted from (its Referer), the page an htmx fragment belongs
    to (HX-Current-URL). For htmx, an HX-Redirect header, which htmx follows as a full
    navigation instead of swapping the page at `url` into the fragment."""
    if is_htmx(request):
        back = _same_site_path(request, request.headers.get("HX-Current-URL"))
    elif request.method in ("GET", "HEAD"):
        back = request.get_full_path()
    else:
        back = _same_site_path(request, request.headers.get("Referer"))
    target = f"{url}?{urlencode({'next': back}, safe='/')}"  # as Django's own: /a/b, not %2F
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def is_htmx(request):
    """Whether htmx sent the request (read from the header: middleware may run before
    django-htmx's)."""
    return request.headers.get("HX-Request") == "true"


def _same_site_path(request, url):
    """The path (and query) of a URL of this site, else the page every sign-in leads to."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url(settings.LOGIN_REDIRECT_URL)
