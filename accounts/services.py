"""Credentials: links to set a password, and telling the account when one changes.

Nobody in the portal, support staff included, ever chooses or learns a partner's password:
an account gets a link to set its own. Every credential change is written to the company's
audit log (accounts.signals, and here for changes made in Django admin) and emailed to the
account.
"""

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.utils import translation

from audit.models import AuditEntry
from audit.services import record

from .models import sync_email_address


def _password_link(request, user):
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    return get_adapter(request).get_reset_password_from_key_url(key)


def send_password_link(request, user, actor, invitation=False):
    """Email the account a link to choose its own password (allauth's password reset link,
    valid until the password changes or PASSWORD_RESET_TIMEOUT passes).

    `invitation` words it for a new account. Audited in the account's company's log with the
    actor (support staff, or a company admin); an account without a company (support staff)
    is not audited. Returns nothing; raises OSError or SMTPException if the email can't be
    sent, before anything is audited.
    """
    adapter = get_adapter(request)
    adapter.send_mail_or_raise(
        "account/email/invitation" if invitation else "account/email/password_reset_key",
        user.email,
        {
            "user": user,
            "password_reset_url": _password_link(request, user),
            "partner": user.partner,
        },
    )
    if user.partner_id:
        with translation.override(settings.LANGUAGE_CODE):
            kind = "invitation" if invitation else "password reset link"
            record(
                user.partner,
                AuditEntry.Action.PASSWORD_LINK_SENT,
                f"{kind}: {user.email}",
                actor,
                {"email": user.email, "link": "invitation" if invitation else "password_reset"},
            )


def change_sign_in_email(request, user, old_email, actor):
    """After the account's email was changed in Django admin: allauth's address book follows,
    the change is audited, and both the old and the new address are told (the old one so
    that a takeover can't go unnoticed)."""
    sync_email_address(user)
    adapter = get_adapter(request)
    # The account's language for both, the old address no longer being its own.
    context = {"user": user, "from_email": old_email, "to_email": user.email}
    for address in (old_email, user.email):
        adapter.send_notification_mail("account/email/email_changed", user, context, email=address)
    if user.partner_id:
        record(
            user.partner,
            AuditEntry.Action.EMAIL_CHANGED,
            f"{old_email} -> {user.email}",
            actor,
            {"email": user.email, "changes": [["email", old_email, user.email]]},
        )
