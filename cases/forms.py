import unicodedata
import uuid

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from support.models import Product

from .models import Case, CaseEntry


class SubmittedOnce(forms.Form):
    """A form that files a case once however often it is sent: a hidden one-time key the case
    keeps (Case.submission_key, unique per opener; cases.services.filed_once). A missing or
    altered key files the case all the same, once, under a fresh key."""

    # A plain Field: whatever comes in (a NUL byte, a list) is cleaned below, never refused
    # with an error on a field nobody sees.
    submission_key = forms.Field(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", str(uuid.uuid4()))

    def clean_submission_key(self):
        try:
            return uuid.UUID(str(self.cleaned_data["submission_key"]))
        except ValueError:
            return uuid.uuid4()

    def changed_since(self, case):
        """Whether what was typed differs from `case`, the one this form filed already: the
        person went back, changed it and sent it again, rather than clicking twice."""
        typed = {name: str(self.data.get(name, "")).strip() for name in ("title", "description")}
        return typed != {"title": case.title.strip(), "description": case.description.strip()}

    def renew_key(self):
        """A fresh one-time key for the form shown again: sending it files a new case."""
        self.data = self.data.copy()
        self.data["submission_key"] = str(uuid.uuid4())


class CaseFilter(forms.Form):
    """The case list's search (number or title) and filters, all optional."""

    MINE = "me"

    q = forms.CharField(label=_("Number or title"), required=False, max_length=200, strip=True)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *Case.State.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Case.Kind.choices]
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        required=False,
        queryset=Product.objects.order_by("name"),
        empty_label=_("Any product"),
        error_messages={"invalid_choice": _("Choose a product from the list.")},
    )
    opened_by = forms.ChoiceField(label=_("Opened by"), required=False)

    def __init__(self, data, *, openers):
        super().__init__(data)
        self.fields["opened_by"].choices = [
            ("", _("Anyone")),
            (self.MINE, _("Me")),
            *((str(person.pk), person.display_name) for person in openers),
        ]

    def apply(self, cases, user):
        """The cases the valid filters let through; a filter in error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        text = data.get("q", "")
        if text:
            pk = Case.pk_of_number(text)
            found = Q(title__icontains=text)
            cases = cases.filter(found | Q(pk=pk) if pk else found)
        if data.get("state"):
            cases = cases.filter(state=data["state"])
        if data.get("kind"):
            cases = cases.filter(kind=data["kind"])
        if data.get("product"):
            cases = cases.filter(product=data["product"])
        opener = data.get("opened_by")
        if opener == self.MINE:
            cases = cases.filter(opened_by=user)
        elif opener:
            cases = cases.filter(opened_by_id=int(opener))
        return cases


class NoteForm(forms.ModelForm):
    class Meta:
        model = CaseEntry
        fields = ["text"]
        labels = {"text": _("Add a note")}
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength on the box: a browser would cut a pasted log short without a word.
        self.fields["text"].widget.attrs.pop("maxlength", None)
        self.fields["text"].error_messages["required"] = _("Write a note first.")
        self.fields["text"].error_messages["max_length"] = _(
            "A note is at most %(limit_value)d characters (it has %(show_value)d); shorten it, "
            "what you typed is kept."
        )

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write a note first."))
        return text


class AdvisoryRequestForm(SubmittedOnce, forms.ModelForm):
    """An advisory request: what it is about, and where and in which language the consultant
    should answer (they route it)."""

    class Meta:
        model = Case
        fields = [
            "title",
            "description",
            "product",
            "request_type",
            "country",
            "language",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "product": _("Product or technology"),
            "request_type": _("Request type"),
            "country": _("Country/region"),
            "language": _("Preferred language"),
            "contact_name": _("Contact name"),
            "contact_email": _("Contact email"),
            "contact_phone": _("Contact phone (optional)"),
        }
        widgets = {
            "request_type": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 5}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Blank on the model (a service request has no product, an incident no request type),
        # required of an advisory request.
        for name in ("product", "request_type", "country", "language"):
            self.fields[name].required = True
        self.fields["request_type"].choices = Case.RequestType.choices
        self.fields["product"].queryset = Product.objects.order_by("name")
        self.fields["product"].empty_label = _("Choose a product")
        self.fields["product"].error_messages["invalid_choice"] = self.fields[
            "product"
        ].error_messages["required"] = _("Choose a product from the list.")
        self.fields["description"].widget.attrs.pop("maxlength", None)

    def clean_contact_phone(self):
        # Full-width digits and signs from an IME are the same number.
        return unicodedata.normalize("NFKC", self.cleaned_data["contact_phone"]).strip()

    def _post_clean(self):
        # The kind decides which fields go together (the case's check constraints): an
        # advisory request's, set before validation.
        self.instance.kind = Case.Kind.ADVISORY
        super()._post_clean()
