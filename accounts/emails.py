"""Emails to a person, each written in that person's language.

Everything the portal itself tells someone by email (invitations, access requests and their
answers, changes to their roles or account, activation notices) goes through `tell`; allauth's
own emails (reset links, codes, credential notices) pick the language in accounts.adapter.
"""

import logging
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger(__name__)


def language_of(user):
    """The language code the person reads: their saved choice, else the portal's default."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def render(user, template_prefix, context):
    """The email `template_prefix`_subject.txt / _message.txt rendered in the person's
    language, as (subject, body) strings; the subject is one line."""
    context = {"user": user, "portal_url": settings.PORTAL_URL.rstrip("/"), **context}
    with translation.override(language_of(user)):
        subject = render_to_string(f"{template_prefix}_subject.txt", context)
        body = render_to_string(f"{template_prefix}_message.txt", context)
    return " ".join(subject.split()), body


def tell(user, template_prefix, context=None, *, email=None, raise_errors=False):
    """Email `user` (at `email`, else their own address) once the current transaction commits,
    in their language.

    Takes a template prefix (e.g. "accounts/email/invitation"; see `render`) and a context
    dict. A mail server that is away is logged and the change stands, unless `raise_errors`,
    for a caller outside a transaction that tells the person (raises OSError or SMTPException).
    Returns nothing.
    """
    subject, body = render(user, template_prefix, context or {})
    message = EmailMessage(subject, body, to=[email or user.email])

    def send():
        try:
            message.send()
        except (OSError, SMTPException):
            if raise_errors:
                raise
            log.exception("Email %s to %s not sent", template_prefix, message.to[0])

    transaction.on_commit(send)
