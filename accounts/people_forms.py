"""The forms of Account settings → Users and of the invitation page."""

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from benefits_portal.forms import DescribedForm
from entitlements.models import Role


class UserFilter(forms.Form):
    """The list's search (name or email) and role filter, both optional."""

    NO_ROLE = "none"

    q = forms.CharField(label=_("Name or email"), required=False, max_length=200, strip=True)
    role = forms.ChoiceField(label=_("Role"), required=False)

    def __init__(self, data):
        super().__init__(data)
        self.fields["role"].choices = [
            ("", _("Any role")),
            *Role.choices,
            (self.NO_ROLE, _("No role")),
        ]

    def apply(self, people):
        """The people the valid filters let through; a filter in error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        for word in data.get("q", "").split():
            people = people.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        if data.get("role") == self.NO_ROLE:
            people = people.filter(role_assignments=None)
        elif data.get("role"):
            people = people.filter(role_assignments__role=data["role"])
        return people


def _roles_field(choices):
    return forms.MultipleChoiceField(
        label=_("Roles"),
        choices=[(role.value, role.label) for role in choices],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class InviteForm(DescribedForm):
    """Add user: who, with which roles (only those the inviter may give), and the language
    their invitation (and every later email) is written in."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=settings.LANGUAGES)

    def __init__(self, *args, grantable, **kwargs):
        kwargs.setdefault("initial", {"language": get_language()})
        super().__init__(*args, **kwargs)
        self.fields["roles"] = _roles_field(grantable)

    def clean_first_name(self):
        return _printable(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return _printable(self.cleaned_data["last_name"])


def _printable(name):
    if not name.isprintable():
        raise forms.ValidationError(_("Enter the name without control characters."))
    return name


class RolesForm(DescribedForm):
    """A person's roles among those the admin may give; the others they hold are kept."""

    def __init__(self, *args, grantable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"] = _roles_field(grantable)


class AcceptForm(DescribedForm):
    """The invitee's new password, twice; the password validators run in people.accept."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The two passwords are not the same."))
        return cleaned
