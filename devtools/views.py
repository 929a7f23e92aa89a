"""The Visual Studio subscriptions page: each offer's subscriptions, who holds them, and
assigning them (seed 003; issue 17)."""

from dataclasses import replace

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from entitlements.permissions import (
    ASSIGN_BENEFITS,
    VIEW_BENEFITS,
    can,
    capability_required,
    people_who_can,
    roles_that_can,
)

from . import services


class AssignForm(forms.Form):
    """Who gets the subscription: one of the company's active users; `seen`, the assignment
    the admin saw, so a change made meanwhile by someone else is not silently overwritten."""

    assignee = forms.ModelChoiceField(
        queryset=None,
        label=_("User"),
        error_messages={
            "required": _("Choose one of your company's active users."),
            "invalid_choice": _("Choose one of your company's active users."),
        },
    )
    seen = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, partner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = partner.users.filter(is_active=True)


@require_GET
@capability_required(VIEW_BENEFITS)
def visual_studio(request, partner):
    """Every Visual Studio subscription of the company's active offers; a Global admin assigns
    and reassigns them here."""
    can_assign = can(request.user, ASSIGN_BENEFITS)
    rows = services.subscriptions(partner)
    if can_assign and rows:
        # Whom a subscription can go to, read once for every row: the company's active users
        # but those holding one of the row's offer already (one each: issue 17).
        users = partner.users.filter(is_active=True).order_by("first_name", "last_name", "email")
        users = list(users)
        rows = [
            replace(row, candidates=tuple(u for u in users if u.pk not in row.taken))
            for row in rows
        ]
    context = {
        "partner": partner,
        "rows": rows,
        "can_assign": can_assign,
        "assigner_roles": get_text_list(
            [str(role.label) for role in roles_that_can(ASSIGN_BENEFITS)], gettext("or")
        ),
        "assigners": [] if can_assign else people_who_can(partner, ASSIGN_BENEFITS),
    }
    return render(request, "devtools/visual_studio.html", context)


@require_POST
@capability_required(ASSIGN_BENEFITS)
def assign(request, partner, offer_id, product_id, number):
    """Assign or reassign one subscription; the page says what happened, or why not."""
    row = services.subscription_or_404(partner, offer_id, product_id, number)
    back = redirect(reverse("entitlements:visual_studio") + f"#subscription-{row.key}-{number}")
    form = AssignForm(partner, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    assignee = form.cleaned_data["assignee"]
    try:
        _assignment, changed = services.assign(
            row, number, assignee, request.user, seen=form.cleaned_data["seen"]
        )
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return back
    if changed:
        messages.success(
            request,
            gettext(
                "%(product)s subscription %(number)s is assigned to %(who)s, who gets an email."
            )
            % {"product": row.product, "number": number, "who": assignee.display_name},
        )
    else:
        messages.info(
            request,
            gettext("%(product)s subscription %(number)s is assigned to %(who)s already.")
            % {"product": row.product, "number": number, "who": assignee.display_name},
        )
    return back
