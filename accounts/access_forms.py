"""The forms of My access (asking for a role) and Access requests (deciding one)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .access import DAYS_MAX, DAYS_MIN, NOTE_MAX, REASON_MAX


class RequestAccessForm(forms.Form):
    """A role the person doesn't hold, and why they need it."""

    role = forms.ChoiceField(
        label=_("Role"), error_messages={"invalid_choice": _("Choose one of the roles listed.")}
    )
    reason = forms.CharField(
        label=_("Why you need it"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Say why you need this role."),
            "max_length": _("Say why in 1000 characters or fewer."),
        },
        help_text=_("Your Global admins read this. Up to 1000 characters."),
    )

    def __init__(self, *args, roles, **kwargs):
        """`roles`: the roles the person may ask for (those they don't hold), in Role's order."""
        super().__init__(*args, **kwargs)
        choices = [(role.value, role.label) for role in roles]
        self.fields["role"].choices = [("", _("Choose a role")), *choices]


class DecisionForm(forms.Form):
    """Approve for an optional number of days, or decline, with an optional note."""

    days = forms.IntegerField(
        label=_("For how many days (optional)"),
        required=False,
        min_value=DAYS_MIN,
        max_value=DAYS_MAX,
        error_messages={
            "invalid": _("Enter a number of days from 1 to 365, or leave it empty."),
            "min_value": _("Enter a number of days from 1 to 365, or leave it empty."),
            "max_value": _("Enter a number of days from 1 to 365, or leave it empty."),
        },
        help_text=_("Empty: the role is kept until someone takes it away."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("Note to the requester (optional)"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("Write the note in 1000 characters or fewer.")},
    )

    def __init__(self, *args, access_request, **kwargs):
        # Each request's form on one page: ids of its own.
        kwargs.setdefault("auto_id", f"id_%s_{access_request.pk}")
        super().__init__(*args, **kwargs)
        self.access_request = access_request
