"""What people type: made comparable before it is validated, and held to a length."""

import unicodedata

from django import forms
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

# Separators people type inside long numbers: spaces (including the ideographic one an IME
# gives), hyphens and the dashes that look like them.
_SEPARATORS = str.maketrans("", "", " \u3000-\u2010\u2011\u2012\u2013\u2212\u30fc")


def digits(value):
    """A numeric identifier as typed -> the same identifier in ASCII digits.

    Takes a string such as "４３９８ ３８８８２" (full-width digits from a Japanese or Chinese
    IME), "٤٣٩٨٣٨٨٨٢" or "439-838-882"; returns it NFKC-normalised with every decimal digit
    of any script made 0-9 and spaces and hyphens removed: "439838882". It does not validate: a
    value that is still not all digits is for the caller's validator to refuse.
    """
    if value is None:
        return value
    value = unicodedata.normalize("NFKC", str(value)).translate(_SEPARATORS).strip()
    # Digits of other scripts (Arabic-Indic "٤٣٩") are digits too, and isdigit() says so:
    # made ASCII here, so no check passes a number that no look-up can find.
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)


class DigitsField(forms.CharField):
    """A form field for a numeric identifier: what was typed goes through `digits` before
    any validation (length, pattern), so "４４５６ ７８９" is the 7-digit "4456789"."""

    def to_python(self, value):
        return digits(super().to_python(value))


def at_most(field, limit, name, message):
    """A CheckConstraint: `field` holds at most `limit` characters.

    PostgreSQL holds a CharField to its max_length (varchar), SQLite does not, and a TextField
    has no limit anywhere: a check constraint on the length holds every one of them,
    everywhere. Takes the field's name, the limit (the field's max_length), the constraint's
    name and the message model validation shows; returns the constraint for a model's
    Meta.constraints.
    """
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=name,
        violation_error_message=message,
    )
