"""What every API response carries: its rate limit, and an ETag for a read (a client sending
it back as If-None-Match gets 304 Not Modified when nothing changed)."""

from django.middleware.http import ConditionalGetMiddleware

API_PREFIX = "/api/"


class ApiResponseMiddleware(ConditionalGetMiddleware):
    """RateLimit and RateLimit-Policy headers (draft-ietf-httpapi-ratelimit-headers), and
    Django's conditional GET (ETag from the body), on the API's responses only."""

    def process_response(self, request, response):
        if not request.path.startswith(API_PREFIX):
            return response
        usage = getattr(request, "api_rate", None)
        if usage is not None:
            name = usage.limit.name.replace(":", "-")
            window = int(usage.limit.window.total_seconds())
            left = max(0, usage.limit.count - usage.hits)
            response["RateLimit-Policy"] = f'"{name}";q={usage.limit.count};w={window}'
            response["RateLimit"] = f'"{name}";r={left};t={usage.seconds_left}'
        return super().process_response(request, response)
