"""Account settings → API tokens: a Global admin creates a token (shown once), sees the
company's tokens with their last use, and revokes one."""

import datetime

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from benefits_portal.forms import DescribedForm
from entitlements.permissions import MANAGE_API_TOKENS, capability_required

from . import services
from .models import ApiToken, Scope

DEFAULT_DAYS = 90


class TokenForm(DescribedForm):
    """A token's name, scopes and last day (a year at most)."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, for example “Billing sync”."),
        error_messages={"required": gettext_lazy("Give the token a name.")},
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("Choose at least one scope."),
            "invalid_choice": gettext_lazy("Choose scopes from the list."),
        },
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Within a year."),
        error_messages={
            "required": gettext_lazy("Choose the day the token expires."),
            "invalid": gettext_lazy("Enter a date such as 2027-03-31."),
        },
    )

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if not today < day <= today + datetime.timedelta(days=365):
            raise forms.ValidationError(_("Choose a day after today and within a year."))
        return day


def _context(partner, form):
    tokens = ApiToken.objects.filter(partner=partner).select_related("created_by", "revoked_by")
    return {"partner": partner, "form": form, "tokens": tokens, "now": timezone.now()}


@require_http_methods(["GET", "POST"])
@capability_required(MANAGE_API_TOKENS)
def tokens(request, partner):
    """The company's API tokens, and a form to create one; a new token is shown this once."""
    initial = {"expires_on": timezone.localdate() + datetime.timedelta(days=DEFAULT_DAYS)}
    form = TokenForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            day = form.cleaned_data["expires_on"]
            # The end of that day where the portal keeps time.
            ends = timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
            try:
                token, raw = services.create_token(
                    request.user, form.cleaned_data["name"], form.cleaned_data["scopes"], ends
                )
            except services.TokenRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                context = _context(partner, TokenForm(initial=initial))
                context |= {"created": token, "raw": raw}
                return render(request, "api/tokens.html", context, status=201)
        return render(request, "api/tokens.html", _context(partner, form), status=400)
    return render(request, "api/tokens.html", _context(partner, form))


@require_POST
@capability_required(MANAGE_API_TOKENS)
def revoke(request, partner, token_id):
    try:
        revoked = services.revoke_token(token_id, partner, request.user)
    except ApiToken.DoesNotExist:
        raise Http404("No such token of this company.") from None
    if revoked:
        messages.success(request, _("Token revoked: requests with it are refused from now on."))
    else:
        messages.info(request, _("No change: the token was revoked already."))
    return redirect("api_tokens:tokens")
