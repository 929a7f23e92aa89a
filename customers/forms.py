"""The forms of a CSP partner's customer pages: a service request on a customer's behalf, and
finding the company's requests."""

import unicodedata

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from benefits_portal.forms import DescribedForm
from cases.forms import SubmittedOnce
from cases.models import Case

from .models import Service
from .services import no_technical_route


class RequestForm(DescribedForm, SubmittedOnce, forms.ModelForm):
    """A New request on a customer's behalf (seed 002): one of the customer's services, what
    the issue is about (billing and subscription management are commercial, the rest
    technical), the route of a technical issue when the company has more than one, a severity
    A, B or C, the story, and the customer's contact. `submission_key` makes a second
    submission of the same form find the first's request (customers.services.file_request)."""

    route = forms.ChoiceField(
        label=_("Route for a technical issue"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the routes listed.")},
    )

    class Meta:
        model = Case
        fields = [
            "service",
            "category",
            "severity",
            "title",
            "description",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        labels = {
            "service": _("Service"),
            "category": _("What is the issue about?"),
            "severity": _("Severity"),
            "title": _("Title"),
            "description": _("Description"),
            "contact_name": _("Customer contact name"),
            "contact_email": _("Customer contact email"),
            "contact_phone": _("Customer contact phone (optional)"),
        }
        help_texts = {
            "description": _(
                "What the customer sees, since when, and what you have tried. Check Service "
                "health first: a service incident may already explain it."
            ),
        }
        widgets = {
            "category": forms.RadioSelect,
            "severity": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 6}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }

    field_order = ["service", "category", "route", "severity"]

    def __init__(self, *args, customer, routes, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner, self.routes = customer.partner, routes
        service = self.fields["service"]
        service.queryset = Service.objects.filter(subscriptions__customer=customer).order_by("name")
        service.required = True  # blank on the model: incidents and advisory requests have none
        service.empty_label = _("Choose a service")
        service.error_messages["required"] = _("Choose the service the issue is with.")
        service.error_messages["invalid_choice"] = _(
            "Choose one of the services the customer subscribes to."
        )
        category = self.fields["category"]
        category.required = True
        category.choices = Case.Category.choices
        category.error_messages["required"] = category.error_messages["invalid_choice"] = _(
            "Choose what the issue is about."
        )
        severity = self.fields["severity"]
        severity.required = True
        severity.choices = Case.Severity.choices
        severity.error_messages["required"] = severity.error_messages["invalid_choice"] = _(
            "Choose a severity."
        )
        self.fields["title"].error_messages["required"] = _("Give the request a title.")
        self.fields["description"].error_messages["required"] = _("Describe the issue.")
        self.fields["contact_name"].error_messages["required"] = _(
            "Enter the name of the customer's contact."
        )
        self.fields["contact_email"].error_messages["required"] = _(
            "Enter the email address of the customer's contact."
        )
        # No maxlength on the box: a browser would cut a pasted log short without a word.
        self.fields["description"].widget.attrs.pop("maxlength", None)
        # Any technical route is accepted here: one the company no longer has (a colleague
        # used the last incident, a paid route ended) is refused by the service, saying why,
        # rather than swapped silently for another. The page offers the routes it has now.
        technical = routes.technical_routes
        route = self.fields["route"]
        route.choices = [(r, Case.Route(r).label) for r in Case.TECHNICAL_ROUTES]
        if len(technical) > 1:
            route.widget.choices = [(r, self.route_label(r)) for r in technical]
            route.initial = technical[0]
        elif technical:
            route.widget = forms.HiddenInput()  # one route: nothing to choose, still the one shown
            route.initial = technical[0]
        else:
            del self.fields["route"]

    def route_label(self, route):
        """A technical route as the form lists it; Signature Cloud Support with what is left."""
        label = Case.Route(route).label
        signature = self.routes.signature
        if route != Case.Route.SIGNATURE_CLOUD_SUPPORT or signature.incidents_remaining is None:
            return label
        left = signature.incidents_remaining
        return ngettext(
            "%(route)s (%(left)s incident left)", "%(route)s (%(left)s incidents left)", left
        ) % {"route": label, "left": left}

    def clean_title(self):
        return self.cleaned_data["title"].strip()

    def clean_contact_phone(self):
        # Full-width digits and signs from an IME are the same number.
        return unicodedata.normalize("NFKC", self.cleaned_data["contact_phone"]).strip()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("category") != Case.Category.TECHNICAL:
            # A commercial issue goes to commercial support, whatever route was left checked.
            self._errors.pop("route", None)
            cleaned["route"] = ""
        elif not self.routes.technical:
            self.add_error("category", no_technical_route(self.partner, self.routes))
        elif not cleaned.get("route") and "route" not in self._errors:
            if len(self.routes.technical_routes) == 1:
                cleaned["route"] = self.routes.technical_routes[0]  # nothing to choose
            else:
                self.add_error("route", _("Choose the route for a technical issue."))
        return cleaned

    @property
    def route_error_field(self):
        """Where a refusal of the route is said: on the routes shown, else on the category."""
        route = self.fields.get("route")
        return "route" if route is not None and not route.widget.is_hidden else "category"

    @property
    def request_fields(self):
        """The Case fields of the request, for customers.services.file_request."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class RequestFilter(forms.Form):
    """The company's service requests: search by number, title or customer, and a state."""

    q = forms.CharField(
        label=_("Number, title or customer"), required=False, max_length=200, strip=True
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Any state")), *Case.State.choices],
        error_messages={"invalid_choice": _("Choose a state from the list.")},
    )

    def apply(self, requests):
        """The requests the valid filters let through; a filter in error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        text = unicodedata.normalize("NFKC", data.get("q", ""))
        if text:
            pk = Case.pk_of_number(text)
            found = Q(title__icontains=text) | Q(customer__name__icontains=text)
            requests = requests.filter(found | Q(pk=pk) if pk else found)
        if data.get("state"):
            requests = requests.filter(state=data["state"])
        return requests
