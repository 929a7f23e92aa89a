from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe


@require_safe
def alive(request):
    """For a load balancer's health check: the portal answers, touching nothing else."""
    return HttpResponse("ok", content_type="text/plain")


def landing_url(user):
    """Where an account starts: support staff (no company) in the admin, where their work is;
    everyone else on the Technical benefits page. A visitor signs in first, with no `next`,
    so that signing in decides which of the two."""
    if not user.is_authenticated:
        return "account_login"
    if user.is_staff and user.partner_id is None:
        return "admin:index"
    return "entitlements:technical_benefits"


@require_safe
def home(request):
    """The site's root and every parent path of the Benefits pages a person might type
    (/dashboard, /dashboard/mpn, ...): the account's starting page."""
    return redirect(landing_url(request.user))
