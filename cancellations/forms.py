from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TEXT_MAX_LENGTH


class CancellationForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you want to cancel?"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why you want to cancel the offer.")},
    )
