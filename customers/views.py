"""Customers and a customer's Service management, for a CSP partner's Admin agents and Global
admins (seed 002, "Providing technical support to customers")."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from activation import clock
from cases.rules import FIRST_RESPONSE_HOURS
from cases.services import filed_already
from cases.views import sent_again, to_the_case_filed_already
from entitlements.permissions import (
    FILE_CUSTOMER_REQUESTS,
    VIEW_BENEFITS,
    VIEW_CUSTOMERS,
    can,
    capability_required,
    partner_object_or_404,
)

from . import services
from .forms import RequestFilter, RequestForm
from .models import Customer

PER_PAGE = 25
# A customer's page shows its newest requests; the rest are a click away, on Requests.
RECENT_REQUESTS = 5


class SearchForm(forms.Form):
    """What a customer's name or domain contains."""

    q = forms.CharField(label=_("Search by name or domain"), required=False, max_length=200)


@require_GET
@capability_required(VIEW_CUSTOMERS)
def customers(request, partner):
    """The partner's customers, searched by name or domain, 25 a page."""
    form = SearchForm(request.GET)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(services.customers_of(partner, search), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "partner": partner,
        "form": form,
        "search": search,
        "page": page,
        "query": query.urlencode(),
    }
    return render(
        request, "customers/customers.html", context, status=200 if form.is_valid() else 400
    )


@require_GET
@capability_required(VIEW_CUSTOMERS)
def customer(request, partner, customer_id):
    """A customer's Service management: its services with their management portals, their
    health with the service incidents (seed 002: start here when a customer reports a
    problem), and the support routes the partner has for its issues."""
    found = services.customer_or_404(partner, customer_id)
    may_file = can(request.user, FILE_CUSTOMER_REQUESTS)
    requests = services.requests_of(partner, found)[:RECENT_REQUESTS] if may_file else []
    routes = services.support_routes(partner)
    context = {
        "partner": partner,
        "customer": found,
        "routes": routes,
        "no_technical_route": services.no_technical_route(partner, routes),
        "may_file": may_file,
        "may_view_ledger": can(request.user, VIEW_BENEFITS),
        "requests": _with_targets(requests),
    }
    return render(request, "customers/customer.html", context)


def _with_targets(requests):
    """The requests as a list, each with `met`: whether its first-response target was met."""
    now = clock.now()
    requests = list(requests)
    for case in requests:
        case.met = case.target_met(now)
    return requests


@require_http_methods(["GET", "POST"])
@capability_required(FILE_CUSTOMER_REQUESTS)
def new_request(request, partner, customer_id):
    """New request on a customer's behalf (seed 002: "Report problems on behalf of a
    customer"): filed through the support route the issue needs, then its case page."""
    found = partner_object_or_404(Customer.objects.all(), partner, pk=customer_id)
    found.partner = partner  # the signed-in company's, read once
    routes = services.support_routes(partner)
    form = RequestForm(request.POST or None, customer=found, routes=routes)
    status = 200
    earlier = filed_already(request.user, request.POST.get("submission_key"))
    if request.method == "POST" and earlier is not None:
        status = 409
        if answer := sent_again(request, form, earlier):
            return answer
    elif request.method == "POST":
        if form.is_valid():
            try:
                case, filed = services.file_request(
                    request.user,
                    found,
                    form.cleaned_data["submission_key"],
                    form.cleaned_data.get("route") or None,
                    **form.request_fields,
                )
            except services.NoRoute as refusal:
                form.add_error(form.route_error_field, str(refusal))
            else:
                if not filed:  # sent twice at once: the other submission filed it
                    return to_the_case_filed_already(request, case)
                messages.success(request, _filed_message(case))
                return redirect("cases:case", pk=case.pk)
        status = 400
    context = {
        "partner": partner,
        "customer": found,
        "routes": routes,
        "no_technical_route": services.no_technical_route(partner, routes),
        "form": form,
        "has_services": found.subscriptions.exists(),
    }
    return render(request, "customers/new_request.html", context, status=status)


def _filed_message(case):
    hours = FIRST_RESPONSE_HOURS[case.severity]
    return gettext(
        "Request %(number)s filed with %(route)s. The first response is due within %(hours)s hours."
    ) % {"number": case.number, "route": case.get_route_display(), "hours": hours}


@require_GET
@capability_required(FILE_CUSTOMER_REQUESTS)
def requests(request, partner):
    """The company's service requests across its customers, or one customer's (?customer=),
    searched and filtered, newest first, 25 a page."""
    customer = None
    if request.GET.get("customer"):
        try:
            customer_id = int(request.GET["customer"])
        except ValueError:
            raise Http404("No such customer.") from None
        customer = services.customers_of(partner).filter(pk=customer_id).first()
        if customer is None:
            raise Http404("No such customer of this partner.")
    form = RequestFilter(request.GET)
    form.is_valid()  # errors are shown; the valid filters still apply
    page = Paginator(form.apply(services.requests_of(partner, customer)), PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = _with_targets(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "partner": partner,
        "customer": customer,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(form.is_bound and form.is_valid() and any(form.cleaned_data.values())),
    }
    return render(request, "customers/requests.html", context)
