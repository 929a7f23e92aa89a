"""What every API response carries: a problem body for any error, its rate limit, caching
that keeps it to the caller, and an ETag for a read (a client sending it back as
If-None-Match gets 304 Not Modified while nothing changed)."""

import json
from http import HTTPStatus

from django.http import HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import patch_cache_control

API_PREFIX = "/api/"
# The reference page is a page for people, not one of the API's answers.
NOT_THE_API = {"/api/v1/docs"}
PROBLEM = "application/problem+json"
# Headers an error keeps when its body becomes a problem.
KEPT = ("Allow", "WWW-Authenticate", "Retry-After")


class ApiResponseMiddleware(ConditionalGetMiddleware):
    """On the API's responses only: RFC 9457 bodies for errors Django answers itself (an
    unknown path, a method not allowed), RateLimit and RateLimit-Policy headers
    (draft-ietf-httpapi-ratelimit-headers), `private, no-cache`, and Django's conditional GET
    (ETag from the body) for a successful read."""

    def process_response(self, request, response):
        if not request.path.startswith(API_PREFIX) or request.path in NOT_THE_API:
            return response
        if response.status_code == 200:
            response = super().process_response(request, response)  # maybe a 304 or a 412
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(PROBLEM):
            response = _problem(response)
        # A read may be revalidated (its ETag), never kept for anyone else: /contracts holds
        # the company's IDs.
        patch_cache_control(response, private=True, no_cache=True)
        usage = getattr(request, "api_rate", None)
        if usage is not None:  # set after the 304 is made: Django's 304 keeps few headers
            name = usage.limit.name.replace(":", "-")
            window = int(usage.limit.window.total_seconds())
            left = max(0, usage.limit.count - usage.hits)
            response["RateLimit-Policy"] = f'"{name}";q={usage.limit.count};w={window}'
            response["RateLimit"] = f'"{name}";r={left};t={usage.seconds_left}'
        return response


def _problem(response):
    status = response.status_code
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": ""}
    problem = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)
    for header in KEPT:
        if response.has_header(header):
            problem[header] = response[header]
    return problem
