"""Emails to a person, each written in that person's language.

What the portal itself tells someone (invitations, access requests and their answers, changes
to their roles or account, activation notices, reminders, case replies) goes through the
outbox, notices.services.tell, which writes them with `render`; allauth's own emails (reset
links, codes, credential notices) pick the language in accounts.adapter.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def language_of(user):
    """The language code the person reads: their saved choice, else the portal's default."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def render(user, template_prefix, context, language=""):
    """The email `template_prefix`_subject.txt / _message.txt rendered in `language` (a code
    of settings.LANGUAGES), else the person's, as (subject, body) strings; the subject is one
    line."""
    context = {"user": user, "portal_url": settings.PORTAL_URL.rstrip("/"), **context}
    with translation.override(language or language_of(user)):
        subject = render_to_string(f"{template_prefix}_subject.txt", context)
        body = render_to_string(f"{template_prefix}_message.txt", context)
    return " ".join(subject.split()), body
