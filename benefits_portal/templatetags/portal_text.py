"""Template filters for text the portal shows but did not write."""

import re

from django import template
from django.utils.safestring import SafeData, mark_safe

register = template.Library()

# Names keep their capitals wherever they stand in a sentence.
NAMES = {"Microsoft", "Partner", "Center", "Azure", "Windows", "Entra"}
TAG = re.compile(r"(<[^>]*>)")
WORD = re.compile(r"[A-Za-z]+")


PLACEHOLDER = re.compile(r'(placeholder=")([^"]*)(")')


def _in_sentence_case(text):
    """One run of text: its first word as it is, later words lowered unless kept (NAMES, IP)."""
    start = WORD.search(text)
    first = start.start() if start else -1

    def lower(match):
        word = match.group(0)
        if match.start() == first or word in NAMES or not word[1:].islower():
            return word
        return word.lower()

    return WORD.sub(lower, text)


@register.filter(is_safe=True)
def sentence_case(text):
    """Take a heading or label in Title Case, as allauth writes them ("Change Password"), and
    return it in sentence case, as the portal writes its own ("Change password").

    The first word of each run of text keeps its capital; later words lose theirs, except names
    (NAMES) and words in capitals ("IP", "ID"). Of markup, only a placeholder's text changes (a
    person reads it in the field), so a form's fields can go through it; safe input stays safe.
    """
    changed = []
    for part in TAG.split(str(text)):
        if part.startswith("<"):
            part = PLACEHOLDER.sub(lambda m: m[1] + _in_sentence_case(m[2]) + m[3], part)
        else:
            part = _in_sentence_case(part)
        changed.append(part)
    changed = "".join(changed)
    return mark_safe(changed) if isinstance(text, SafeData) else changed  # noqa: S308
