"""Customers and a customer's Service management, for a CSP partner's Admin agents and Global
admins (seed 002, "Providing technical support to customers")."""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from entitlements.permissions import VIEW_CUSTOMERS, capability_required

from . import services

PER_PAGE = 25


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
    context = {
        "partner": partner,
        "customer": found,
        "routes": services.support_routes(partner),
    }
    return render(request, "customers/customer.html", context)
