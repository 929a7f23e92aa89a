"""The Software page: the company's entitled products, their license keys and downloads (seed
003, "Manage software benefits")."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import get_text_list
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET, require_POST

from entitlements.permissions import (
    GET_KEYS,
    VIEW_BENEFITS,
    can,
    capability_required,
    people_who_can,
    roles_that_can,
)

from . import services
from .models import Download

PER_PAGE = 25
SEARCH_MAX_LENGTH = 100


def _choice(request, name, choices):
    # A choice from the query string, or none (all): anything else typed in the URL is ignored.
    value = request.GET.get(name, "")
    return value if value in dict(choices) else ""


def _key_context(request, partner):
    may_get_keys = can(request.user, GET_KEYS)
    return {
        "partner": partner,
        "can_get_keys": may_get_keys,
        "key_getters": [] if may_get_keys else people_who_can(partner, GET_KEYS),
        "key_getter_roles": get_text_list(
            [str(role.label) for role in roles_that_can(GET_KEYS)], gettext("or")
        ),
        "languages": Download._meta.get_field("language").choices,
        "operating_systems": Download.OperatingSystem.choices,
        "poll_seconds": settings.KEYS_POLL_SECONDS,
    }


def _with_downloads_and_keys(request, rows, open_key=None, language=None, operating_system=""):
    """Each row with its downloads and its keys already revealed, the open row's downloads
    narrowed by the choices (`language` None: not chosen yet; "": every language): two
    queries, however many rows."""
    downloads = {}
    for download in Download.objects.filter(product__in=[row.product for row in rows]):
        downloads.setdefault(download.product_id, []).append(download)
    shown = {}
    if can(request.user, GET_KEYS) and rows:
        shown = services.revealed_keys({row.offer for row in rows})
    current = get_language()
    result = []
    for row in rows:
        files = downloads.get(row.product.pk, [])
        typed, system = (language, operating_system) if row.key == open_key else (None, "")
        # Before any choice, the reader's own language when the product has files in it.
        if typed is None:
            typed = next((f.language for f in files if f.language == current), "")
        chosen = typed
        result.append(
            {
                "row": row,
                "language": chosen,
                "operating_system": system,
                "downloads": [
                    f
                    for f in files
                    if (not chosen or f.language == chosen)
                    and (not system or f.operating_system == system)
                ],
                "has_downloads": bool(files),
                "keys": shown.get((row.offer.pk, row.product.pk), []),
            }
        )
    return result


def _chosen(request):
    """(language, OS type) chosen in the query string; the language None when not chosen at all
    ("All languages" is a choice too)."""
    language = _choice(request, "language", Download._meta.get_field("language").choices)
    if "language" not in request.GET:
        language = None
    return language, _choice(request, "os", Download.OperatingSystem.choices)


def _render_page(request, partner, open_row=None, extra=None, rows=None):
    """The page; with `open_row`, on the page of the list that holds it, that row expanded
    with the language and OS type chosen, and `extra` (a message) in it. `rows`: the
    company's entitled products, when the caller has them already."""
    rows = services.entitled_products(partner) if rows is None else rows
    entitled = bool(rows)
    search = "" if open_row else request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    if search:
        folded = search.casefold()
        rows = [row for row in rows if folded in str(row.product).casefold()]
    page_number = request.GET.get("page")
    if open_row:
        position = next(i for i, row in enumerate(rows) if row.key == open_row.key)
        page_number = position // PER_PAGE + 1
    page = Paginator(rows, PER_PAGE).get_page(page_number)
    open_key = open_row.key if open_row else None
    items = _with_downloads_and_keys(request, list(page.object_list), open_key, *_chosen(request))
    for item in items:
        if item["row"].key == open_key:
            item.update(extra or {})
    context = {
        **_key_context(request, partner),
        "items": items,
        "page": page,
        "query": urlencode({"q": search}) if search else "",
        "search": search,
        "entitled": entitled,
        "open_key": open_key,
    }
    return render(request, "software/software.html", context)


@require_GET
@capability_required(VIEW_BENEFITS)
def software(request, partner):
    return _render_page(request, partner)


def _render_row(request, partner, row, extra=None, rows=None):
    """The row alone (htmx), or the page with the row expanded."""
    if not request.htmx:
        return _render_page(request, partner, row, extra, rows)
    [item] = _with_downloads_and_keys(request, [row], row.key, *_chosen(request))
    item.update(extra or {})
    return render(
        request, "software/_product_content.html", {**_key_context(request, partner), **item}
    )


@require_GET
@capability_required(VIEW_BENEFITS)
def product(request, partner, offer_id, product_id):
    """One product: the page with it expanded, or, asked by htmx, its row alone, with the
    downloads narrowed to the language and OS type chosen. A row waiting for keys (the pool
    was empty) asks again now and then, and offers Get keys once the pool has enough."""
    rows = services.entitled_products(partner)
    row = services.entitlement_or_404(partner, offer_id, product_id, rows=rows)
    extra = {}
    if request.GET.get("waiting"):
        ready = services.free_keys(row.product) >= row.inclusion.keys
        extra = {"keys_back": ready, "no_keys_left": not ready}
    return _render_row(request, partner, row, extra, rows)


@require_POST
@capability_required(GET_KEYS)
def get_keys(request, partner, offer_id, product_id):
    """Get keys: draws the product's keys for the offer the first time, reveals them."""
    row = services.entitlement_or_404(partner, offer_id, product_id)
    try:
        services.get_keys(request.user, row.offer, row.product)
    except services.NoKeysLeft:
        return _render_row(request, partner, row, {"no_keys_left": True})
    if request.htmx:
        return _render_row(request, partner, row)
    url = reverse("software:product", args=[row.offer.pk, row.product.pk])
    return redirect(f"{url}#product-{row.key}")


@require_GET
@capability_required(VIEW_BENEFITS)
def download(request, partner, download_id):
    """The file, as an attachment, to a company entitled to its product; anyone else: 404."""
    item = get_object_or_404(Download.objects.select_related("product"), pk=download_id)
    entitled = {row.product.pk for row in services.entitled_products(partner, item.product.area)}
    if item.product.pk not in entitled:
        raise Http404("No such download among the company's entitlements.")
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    return FileResponse(handle, as_attachment=True, filename=item.filename)
