from django.http import HttpResponsePermanentRedirect
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
