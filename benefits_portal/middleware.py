from django.utils.cache import patch_cache_control


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
