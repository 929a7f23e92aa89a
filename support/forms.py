import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import DigitsField
from cases.forms import SubmittedOnce
from cases.models import Case

from .models import ProductVersion


class ProductForm(forms.Form):
    """Step 1: what the request is about."""

    version = forms.ModelChoiceField(
        queryset=ProductVersion.objects.select_related("product"),
        label=_("Product"),
        empty_label=_("Choose a product"),
        error_messages={"invalid_choice": _("Choose a product from the list.")},
    )
    support_type = forms.ChoiceField(choices=Case.SupportType.choices, label=_("Support type"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Products grouped as in the real portal: on-premises versions, then cloud services.
        groups = {}
        for version in self.fields["version"].queryset.order_by(
            "-product__kind", "product__name", "-released_on"
        ):
            groups.setdefault(version.product.get_kind_display(), []).append(
                (version.pk, str(version))
            )
        self.fields["version"].choices = [("", _("Choose a product")), *groups.items()]


class AddContractForm(forms.Form):
    access_id = DigitsField(label=_("Access ID"), max_length=20)
    contract_id = DigitsField(
        label=_("Contract ID"),
        max_length=20,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def _nine_digits(self, name, label):
        value = self.cleaned_data[name]
        if not (len(value) == 9 and value.isdigit()):
            raise forms.ValidationError(
                _("The %(label)s is 9 digits, as shown on the Technical benefits page.")
                % {"label": label}
            )
        return value

    def clean_access_id(self):
        return self._nine_digits("access_id", _("Access ID"))

    def clean_contract_id(self):
        return self._nine_digits("contract_id", _("Contract ID"))


class IncidentForm(SubmittedOnce, forms.ModelForm):
    """Step 3: the incident, under one of the account's plans.

    Takes `usable` and `unavailable`, the account's plans for the product (services.plans_for).
    A plan that can't take the incident is refused with its true reason (used up, expired, or
    not for this product), and everything typed stays in the form.
    """

    plan = forms.ChoiceField(
        label=_("Support plan"),
        error_messages={
            "required": _("Choose one of your support plans."),
            "invalid_choice": _("That support plan is not on your account."),
        },
    )

    class Meta:
        model = Case
        fields = [
            "title",
            "description",
            "severity",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        widgets = {
            "severity": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 5}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "severity": _("Severity"),
            "contact_name": _("Contact name"),
            "contact_email": _("Contact email"),
            "contact_phone": _("Contact phone (optional)"),
        }

    def __init__(self, *args, usable, unavailable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {plan.key: plan for plan in (*usable, *unavailable)}
        self.fields["plan"].choices = [(plan.key, plan.name) for plan in self.plans.values()]
        self.fields["severity"].choices = Case.Severity.choices  # no empty "---------"
        # No maxlength on the description's box: a browser would cut a pasted log short
        # without a word. The form says how long it may be and keeps the text to shorten.
        self.fields["description"].widget.attrs.pop("maxlength", None)

    def clean_plan(self):
        plan = self.plans[self.cleaned_data["plan"]]
        if not plan.availability.usable:
            raise forms.ValidationError(plan.availability.refusal)
        return plan.key

    def clean_contact_phone(self):
        # Full-width digits and signs from an IME are the same number.
        return unicodedata.normalize("NFKC", self.cleaned_data["contact_phone"]).strip()
