"""What people type, made comparable before it is validated."""

import unicodedata

from django import forms

# Separators people type inside long numbers: spaces (including the ideographic one an IME
# gives), hyphens and the dashes that look like them.
_SEPARATORS = str.maketrans("", "", " \u3000-\u2010\u2011\u2012\u2013\u2212\u30fc")


def digits(value):
    """A numeric identifier as typed -> the same identifier in ASCII digits.

    Takes a string such as "４３９８ ３８８８２" (full-width digits from a Japanese or Chinese
    IME) or "439-838-882"; returns it NFKC-normalised (so full-width and other compatibility
    digits become 0-9) with spaces and hyphens removed: "439838882". It does not validate: a
    value that is still not all digits is for the caller's validator to refuse.
    """
    if value is None:
        return value
    return unicodedata.normalize("NFKC", str(value)).translate(_SEPARATORS).strip()


class DigitsField(forms.CharField):
    """A form field for a numeric identifier: what was typed goes through `digits` before
    any validation (length, pattern), so "４４５６ ７８９" is the 7-digit "4456789"."""

    def to_python(self, value):
        return digits(super().to_python(value))
