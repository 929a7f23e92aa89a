"""The Cloud page: the company's cloud subscription benefits, Azure credit assigned to a user,
and subscriptions activated through the activation engine (seed 003; issue 16)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import login_required
from activation import clock
from activation.services import NotActivatable
from activation.views import say_what_activate_did
from entitlements.permissions import (
    ACTIVATE_BENEFITS,
    ASSIGN_BENEFITS,
    GET_KEYS,
    VIEW_BENEFITS,
    can,
    capability_required,
    roles_that_can,
)
from software import services as software_services

from . import services


class AssignForm(forms.Form):
    """Who gets the credit: one of the company's active users; `seen`, the assignment the
    admin saw, so a change made meanwhile by someone else is not silently overwritten."""

    assignee = forms.ModelChoiceField(
        queryset=None,
        label=_("User"),
        error_messages={"invalid_choice": _("Choose one of your company's active users.")},
    )
    seen = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, partner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = partner.users.filter(is_active=True)


def _row_or_404(partner, offer_id, product_id):
    row = services.cloud_benefit_of(partner, offer_id, product_id)
    if row is None:
        raise Http404("No such cloud benefit of this company.")
    return row


def _people(partner, capability):
    return get_text_list([str(role.label) for role in roles_that_can(capability)], gettext("or"))


def _context(request, partner):
    can_activate = can(request.user, ACTIVATE_BENEFITS)
    can_assign = can(request.user, ASSIGN_BENEFITS)
    return {
        "partner": partner,
        "today": clock.today(),
        "can_activate": can_activate,
        "can_assign": can_assign,
        "activator_roles": _people(partner, ACTIVATE_BENEFITS),
        "can_get_keys": can(request.user, GET_KEYS),
        "key_getter_roles": _people(partner, GET_KEYS),
        "assigner_roles": _people(partner, ASSIGN_BENEFITS),
        # The company's active users to assign a credit to, read once for every row.
        "users": (
            list(partner.users.filter(is_active=True).order_by("first_name", "last_name", "email"))
            if can_assign
            else []
        ),
    }


def _back_to(row):
    return redirect("cloud:row", offer_id=row.offer.pk, product_id=row.product.pk)


def _page(request, partner, open_key=None):
    rows = services.with_state(services.cloud_benefits(partner), request.user)
    context = {**_context(request, partner), "rows": rows, "open_key": open_key}
    return render(request, "cloud/cloud.html", context)


@require_GET
@capability_required(VIEW_BENEFITS)
def cloud_page(request, partner):
    return _page(request, partner)


@require_GET
@capability_required(VIEW_BENEFITS)
def row(request, partner, offer_id, product_id):
    """One cloud benefit: the page with it expanded, or, asked by htmx, the row alone."""
    found = _row_or_404(partner, offer_id, product_id)
    if not request.htmx:
        return _page(request, partner, open_key=found.key)
    [found] = services.with_state([found], request.user)
    context = {**_context(request, partner), "row": found}
    return render(request, "cloud/_row_content.html", context)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def activate(request, partner, offer_id, product_id):
    found = _row_or_404(partner, offer_id, product_id)
    try:
        activation, created = services.activate(found, request.user)
    except (services.Refused, NotActivatable) as refusal:
        messages.error(request, str(refusal))
        return _back_to(found)
    say_what_activate_did(
        request,
        activation,
        created,
        str(found.product),
        found.key,
        gettext(
            "Activation of %(product)s requested. "
            "Allow a few days to process your activation request."
        )
        % {"product": found.product},
    )
    return _back_to(found)


@require_POST
@capability_required(GET_KEYS)
def get_keys(request, partner, offer_id, product_id):
    """Get keys of a license-based subscription; the row, opened, shows them from now on."""
    found = _row_or_404(partner, offer_id, product_id)
    try:
        services.get_keys(found, request.user)
    except services.Refused:
        raise Http404("No keys for this product.") from None
    except software_services.NoKeysLeft:
        messages.error(
            request,
            gettext(
                "There are no license keys of this product left to give right now. Support "
                "has been told; try again later."
            ),
        )
    return _back_to(found)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def retry(request, partner, offer_id, product_id):
    found = _row_or_404(partner, offer_id, product_id)
    if services.retry(found, request.user):
        messages.success(
            request,
            gettext("Activation of %(benefit)s started again.") % {"benefit": found.product},
        )
    else:
        messages.info(request, gettext("There is no failed activation to try again."))
    return _back_to(found)


@require_POST
@capability_required(ASSIGN_BENEFITS)
def assign(request, partner, offer_id, product_id):
    found = _row_or_404(partner, offer_id, product_id)
    form = AssignForm(partner, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back_to(found)
    assignee = form.cleaned_data["assignee"]
    try:
        _assignment, changed = services.assign_credit(
            found, assignee, request.user, seen=form.cleaned_data["seen"]
        )
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return _back_to(found)
    if changed:
        messages.success(
            request,
            gettext("%(product)s is assigned to %(who)s, who gets an email with the link.")
            % {"product": found.product, "who": assignee.display_name},
        )
    else:
        messages.info(
            request,
            gettext("%(product)s is assigned to %(who)s already.")
            % {"product": found.product, "who": assignee.display_name},
        )
    return _back_to(found)


@require_GET
@login_required
def credit(request, code):
    """The redemption page of an Azure credit: for its current assignee only (anyone else, or
    a link of an assignment since ended, is a 404)."""
    assignment = services.current_credit(request.user, code)
    if assignment is None:
        raise Http404("No credit of yours with this link.")
    return render(request, "cloud/credit.html", {"assignment": assignment})
