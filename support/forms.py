from django import forms
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import DigitsField

from .models import Incident, ProductVersion


class ProductForm(forms.Form):
    """Step 1: what the request is about."""

    SUPPORT_TYPES = [
        ("technical", _("Technical: something isn't working as expected")),
        ("setup", _("Setup: installing, configuring or upgrading")),
    ]

    version = forms.ModelChoiceField(
        queryset=ProductVersion.objects.select_related("product"),
        label=_("Product"),
        empty_label=_("Choose a product"),
        error_messages={"invalid_choice": _("Choose a product from the list.")},
    )
    support_type = forms.ChoiceField(choices=SUPPORT_TYPES, label=_("Support type"))

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


class IncidentForm(forms.ModelForm):
    plan = forms.ChoiceField(
        label=_("Support plan"),
        error_messages={
            "required": _("Choose one of your support plans."),
            "invalid_choice": (
                _("That support plan is not on your account or does not cover this product.")
            ),
        },
    )

    class Meta:
        model = Incident
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
        }
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "severity": _("Severity"),
            "contact_name": _("Contact name"),
            "contact_email": _("Contact email"),
            "contact_phone": _("Contact phone (optional)"),
        }

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.key, plan.name) for plan in plans]
        self.fields["severity"].choices = Incident.Severity.choices  # no empty "---------"
        # No maxlength on the description's box: a browser would cut a pasted log short
        # without a word. The form says how long it may be and keeps the text to shorten.
        self.fields["description"].widget.attrs.pop("maxlength", None)
