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

    The first word keeps its capital; later words lose theirs, except names (NAMES) and words in
    capitals ("IP", "ID"). Only text is changed, never markup; safe input stays safe.
    """
    seen_first = False

    def lower(match):
        nonlocal seen_first
        word = match.group(0)
        if not seen_first:
            seen_first = True
            return word
        if word in NAMES or not word[1:].islower():
            return word
        return word.lower()

    parts = TAG.split(str(text))
    changed = "".join(part if part.startswith("<") else WORD.sub(lower, part) for part in parts)
    return mark_safe(changed) if isinstance(text, SafeData) else changed  # noqa: S308
