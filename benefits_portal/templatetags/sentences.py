"""Joining sentences that are translated one by one."""

from django import template
from django.utils.translation import get_language

register = template.Library()

# Japanese and Chinese put no space after 。，：, where English puts one after its full stop.
WRITTEN_WITHOUT_SPACES = ("ja", "zh")


@register.simple_tag
def sentence_gap():
    """What goes between two sentences in the active language: a space, or nothing."""
    language = (get_language() or "").lower()
    return "" if language.startswith(WRITTEN_WITHOUT_SPACES) else " "


@register.filter
def join_sentences(sentences):
    """Sentences (a list, e.g. a field's errors) as one text, joined as the active language
    joins them: sentence_gap between each."""
    return sentence_gap().join(str(sentence) for sentence in sentences)
