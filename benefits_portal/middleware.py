from django.http import HttpResponsePermanentRedirect
from django.middleware.gzip import GZipMiddleware
from django.urls import is_valid_path
from django.utils.cache import patch_cache_control
from django.utils.http import escape_leading_slashes


class PrivateNoStoreMiddleware:
    """Every response to a signed-in account is `Cache-Control: private, no-store`, unless
    its view chose its own caching.

    Such a response can hold a company's Access ID and Contract ID, its audit log, or the
    account's own recovery codes: no shared cache may keep it, and the browser may not keep it
    on disk for the next person at the computer. One middleware rather than never_cache on
    each view, so a page or fragment added later is covered without anyone remembering to.
    Static files are served before this runs (WhiteNoise) and keep their long caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class RemoveSlashMiddleware:
    """A typed URL with a trailing slash finds the page without one: a GET or HEAD that
    would be a 404 is sent (301) to the same path without its slash, when that path is one
    of the portal's (its URLs have none, allauth's and the admin's do: Django's APPEND_SLASH
    adds theirs). Other methods keep their 404: a redirect would lose the form's data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path_info
        if (
            response.status_code == 404
            and request.method in ("GET", "HEAD")
            and path.endswith("/")
            and path != "/"
        ):
            bare = path.rstrip("/")
            if is_valid_path(bare, getattr(request, "urlconf", None)):
                query = request.META.get("QUERY_STRING", "")
                target = request.path.rstrip("/") + (f"?{query}" if query else "")
                return HttpResponsePermanentRedirect(escape_leading_slashes(target))
        return response


class SignedOutGZipMiddleware(GZipMiddleware):
    """Compresses the pages of people not signed in (sign-in, password reset, errors), and
    not the signed-in ones.

    BREACH reads a secret out of compressed responses that also echo text an attacker
    chooses, by making the victim's browser fetch thousands of them. A signed-in page holds
    Access IDs and Contract IDs beside echoed text (the language switch repeats the address,
    the audit log its filters), and SameSite=Lax still sends the session cookie on a link
    followed from another site; Django's random padding only slows the attack. Signed-out
    pages hold no secret but a CSRF token, which Django masks anew in every response.
    """

    def process_response(self, request, response):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return response
        return super().process_response(request, response)
