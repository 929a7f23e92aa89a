"""Notices: the signed-in person's own notices, newest first, and marking them read."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import login_required

from . import services
from .models import Notice

NOTICES_PER_PAGE = 20


@require_GET
@login_required
def notices(request):
    """Every notice of the signed-in person (only theirs), newest first, unread marked."""
    page = Paginator(
        Notice.objects.of(request.user).only(
            "pk", "kind", "context", "url", "created_at", "read_at"
        ),
        NOTICES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    rows = [
        {"notice": notice, "title": services.title(notice), "url": _safe(notice.url)}
        for notice in page
    ]
    # "Mark all read" marks what the person was shown: a notice that comes after stays unread.
    newest = rows[0]["notice"].pk if rows and page.number == 1 else None
    return render(request, "notices/notices.html", {"page": page, "rows": rows, "newest": newest})


@require_POST
@login_required
def mark_read(request, notice_id):
    """Mark one of the person's notices read (again: nothing changes); another's is a 404.
    Opening it (`open`) follows its link."""
    try:
        notice = services.mark_read(request.user, notice_id)
    except Notice.DoesNotExist:
        raise Http404("No such notice.") from None
    if request.POST.get("open") and _safe(notice.url):
        return redirect(notice.url)
    return redirect(_back(request))


@require_POST
@login_required
def mark_all_read(request):
    """Mark read the person's unread notices up to the newest the page showed them."""
    shown = request.POST.get("newest", "")
    up_to = int(shown) if shown.isascii() and shown.isdigit() else None
    if services.mark_all_read(request.user, up_to):
        messages.success(request, _("All your notices are marked read."))
    return redirect(_back(request))


def _safe(url):
    """The notice's link if it stays in the portal, else "" (links are the portal's paths)."""
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts=None) and url else ""


def _back(request):
    """The notices page the form was on."""
    page = request.POST.get("page", "")
    path = reverse("notices:notices")
    return f"{path}?page={page}" if page.isascii() and page.isdigit() else path
