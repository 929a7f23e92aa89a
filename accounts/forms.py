"""allauth's two-factor forms, taking codes as people type them."""

from allauth.account import forms as account_forms
from allauth.mfa.base import forms as base_forms
from allauth.mfa.totp import forms as totp_forms

from benefits_portal.text import digits


class TypedCodeMixin:
    """A code typed with full-width characters (a Japanese or Chinese IME) or with a space in
    the middle is the same code: normalised before allauth checks it."""

    def clean_code(self):
        self.cleaned_data["code"] = digits(self.cleaned_data["code"])
        return super().clean_code()


class AuthenticateForm(TypedCodeMixin, base_forms.AuthenticateForm):
    pass


class ReauthenticateForm(TypedCodeMixin, base_forms.ReauthenticateForm):
    pass


class ActivateTOTPForm(TypedCodeMixin, totp_forms.ActivateTOTPForm):
    pass


class ConfirmEmailVerificationCodeForm(
    TypedCodeMixin, account_forms.ConfirmEmailVerificationCodeForm
):
    pass
