"""What the portal's forms share."""

from django import forms


class DescribedForm(forms.Form):
    """Each input names its hint (id_<name>-hint) and its error (id_<name>-error) for screen
    readers (aria-describedby), and is marked invalid when it has an error: once cleaned, and
    for an error added after (a service's refusal)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self):
        super().full_clean()
        self._describe()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._describe()

    def _describe(self):
        errors = self._errors or {}  # read, never cleaned from here: fields may not be ready
        for name, field in self.fields.items():
            ids = [f"id_{name}-hint"] if field.help_text else []
            if name in errors:
                ids.append(f"id_{name}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
