"""Account settings → API tokens and Webhooks.

API tokens: a Global admin creates a token (shown once), sees the company's tokens with their
last use, and revokes one. Webhooks: a Global admin adds an endpoint (its signing secret shown
once), reads each endpoint's delivery log, redelivers, disables, enables and removes it.
"""

import datetime

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from benefits_portal.forms import DescribedForm
from cases.forms import SubmittedOnce
from entitlements.permissions import MANAGE_API_TOKENS, MANAGE_WEBHOOKS, capability_required
from notices import webhooks
from notices.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

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
    return redirect("integrations:tokens")


# Webhooks

DELIVERIES_PER_PAGE = 20


class EndpointForm(SubmittedOnce, DescribedForm):
    """An endpoint's URL and the events it is told of; sent twice, it adds one endpoint."""

    url = forms.URLField(
        label=gettext_lazy("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("A public https:// address of your own system."),
        error_messages={
            "required": gettext_lazy("Enter the URL that receives the events."),
            "invalid": gettext_lazy("Enter a web address such as https://example.com/webhooks."),
        },
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("Choose at least one event."),
            "invalid_choice": gettext_lazy("Choose events from the list."),
        },
    )


def _endpoints(partner):
    waiting = Q(deliveries__due_at__isnull=False)
    return webhooks.endpoints_of(partner).annotate(waiting=Count("deliveries", filter=waiting))


@require_http_methods(["GET", "POST"])
@capability_required(MANAGE_WEBHOOKS)
def webhooks_page(request, partner):
    """The company's webhook endpoints, and a form to add one; a new endpoint's secret is
    shown this once (and again to the same form sent twice)."""
    initial = {"events": WebhookEvent.values}
    form = EndpointForm(request.POST or None, initial=initial)
    context = {"partner": partner, "form": form}
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint, _added = webhooks.add_endpoint(
                    request.user,
                    form.cleaned_data["url"],
                    form.cleaned_data["events"],
                    form.cleaned_data["submission_key"],
                )
            except webhooks.Refused as refusal:
                form.add_error("url", str(refusal))
            else:
                context |= {"form": EndpointForm(initial=initial), "created": endpoint}
                context["endpoints"] = _endpoints(partner)
                return render(request, "api/webhooks.html", context, status=201)
        context["endpoints"] = _endpoints(partner)
        return render(request, "api/webhooks.html", context, status=400)
    context["endpoints"] = _endpoints(partner)
    return render(request, "api/webhooks.html", context)


def _endpoint_or_404(partner, endpoint_id):
    try:
        return (
            webhooks.endpoints_of(partner)
            .select_related("created_by", "disabled_by")
            .get(pk=endpoint_id)
        )
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook endpoint of this company.") from None


@require_http_methods(["GET"])
@capability_required(MANAGE_WEBHOOKS)
def webhook(request, partner, endpoint_id):
    """An endpoint and its delivery log, newest first, 20 a page, each delivery with every
    try (time, status code, response time, the start of the answer). The log reloads itself
    (`_poll_seconds`; htmx then asks for the log alone)."""
    endpoint = _endpoint_or_404(partner, endpoint_id)
    deliveries = endpoint.deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-at", "-pk"))
    )
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "partner": partner,
        "endpoint": endpoint,
        "page": page,
        "poll_seconds": _poll_seconds(endpoint, page),
        "query": "",
    }
    template = "api/_deliveries.html" if request.htmx else "api/webhook.html"
    return render(request, template, context)


def _poll_seconds(endpoint, page):
    """How soon the log reloads itself: soon while a delivery on the page waits for its try,
    now and then on the first page (new events come first); never on a disabled endpoint's
    older pages, where nothing changes by itself."""
    if endpoint.disabled_at is None and any(d.due_at for d in page.object_list):
        return 3
    return 10 if page.number == 1 else None


@require_POST
@capability_required(MANAGE_WEBHOOKS)
def webhook_enabled(request, partner, endpoint_id):
    enabled = request.POST.get("enabled") == "1"
    try:
        changed = webhooks.set_enabled(endpoint_id, partner, request.user, enabled)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook endpoint of this company.") from None
    if not changed:
        messages.info(
            request,
            _("No change: the endpoint was enabled already.")
            if enabled
            else _("No change: the endpoint was disabled already."),
        )
    elif enabled:
        messages.success(request, _("Endpoint enabled: the deliveries waiting are sent now."))
    else:
        messages.success(request, _("Endpoint disabled: it is sent nothing until enabled."))
    return redirect("integrations:webhook", endpoint_id)


@require_POST
@capability_required(MANAGE_WEBHOOKS)
def webhook_remove(request, partner, endpoint_id):
    endpoint = webhooks.endpoints_of(partner).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint of this company.")
    if webhooks.remove_endpoint(endpoint_id, partner, request.user):
        messages.success(
            request, _("Endpoint %(url)s removed, with its delivery log.") % {"url": endpoint.url}
        )
    return redirect("integrations:webhooks")


@require_POST
@capability_required(MANAGE_WEBHOOKS)
def redeliver(request, partner, endpoint_id, delivery_id):
    try:
        made_due = webhooks.redeliver(delivery_id, endpoint_id, partner, request.user)
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such delivery of this company.") from None
    if made_due:
        messages.success(request, _("Delivery sent again: its tries appear in the log."))
    else:
        messages.info(request, _("No change: the delivery is waiting for its try already."))
    return redirect("integrations:webhook", endpoint_id)
