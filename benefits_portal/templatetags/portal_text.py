"""Template filters for text the portal shows but did not write."""

import re

from django import template
from django.utils.safestring import SafeData, mark_safe

register = template.Library()

# Names keep their capitals wherever they stand in a sentence.
NAMES = {"Microsoft", "Partner", "Center", "Azure", "Windows", "Entra"}
TAG = re.compile(r"(<[^>]*>)")
WORD = re.compile(r"[A-Za-z]+")


@register.filter(is_safe=True)
def sentence_case(text):
    """Take a heading or label in Title Case, as allauth writes them ("Change Password"), and
    return it in sentence case, as the portal writes its own ("Change password").

    The first word of each run of text keeps its capital; later words lose theirs, except names
    (NAMES) and words in capitals ("IP", "ID"). Only text is changed, never markup (attributes
    included), so a form's fields can go through it; safe input stays safe.
    """

    def lower(match):
        word = match.group(0)
        if match.start() == first or word in NAMES or not word[1:].islower():
            return word
        return word.lower()

    changed = []
    for part in TAG.split(str(text)):
        if not part.startswith("<"):
            start = WORD.search(part)
            first = start.start() if start else -1
            part = WORD.sub(lower, part)
        changed.append(part)
    changed = "".join(changed)
    return mark_safe(changed) if isinstance(text, SafeData) else changed  # noqa: S308
