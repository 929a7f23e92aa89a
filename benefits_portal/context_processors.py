import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# The links of the frame every page is drawn in, {name in the templates: URL name}.
FRAME_LINKS = {
    "home": "home",
    "sign_in": "account_login",
    "sign_out": "account_logout",
    "notices": "notices:notices",
    "software": "entitlements:software",
    "cloud": "entitlements:cloud",
    "visual_studio": "entitlements:visual_studio",
    "technical_benefits": "entitlements:technical_benefits",
    "go_to_market": "entitlements:go_to_market",
    "offers": "cancellations:offers",
    "contract_holders": "contract_holders",
    "customers": "customers:customers",
    "cases": "cases:list",
    "audit_log": "audit:log",
    "users": "accounts:users",
    "access_requests": "accounts:access_requests",
    "entra": "accounts:entra",
    "api_tokens": "integrations:tokens",
    "webhooks": "integrations:webhooks",
    "support": "support:home",
    "my_access": "accounts:my_access",
    "change_password": "account_change_password",
    "sessions": "usersessions_list",
    "entra_account": "socialaccount_connections",
    "set_language": "set_language",
}


def frame_links(request):
    """`links`: the frame's URLs, {name: path}. They are the same on every page, so they are
    reversed once per URLconf and script prefix, not about thirty times a page."""
    return {"links": _reversed(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())}


@functools.cache
def _reversed(root_urlconf, urlconf, prefix):
    return {name: reverse(url_name, urlconf=urlconf) for name, url_name in FRAME_LINKS.items()}
