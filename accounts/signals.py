"""Every credential change an account makes through allauth (password, email addresses,
two-factor authentication) goes in its company's audit log. allauth emails the account
(ACCOUNT_EMAIL_NOTIFICATIONS); where it doesn't, these receivers do."""

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.mfa import signals as mfa_signals
from django.conf import settings
from django.dispatch import receiver
from django.utils import translation

from audit.models import AuditEntry
from audit.services import record

from .language import keep_the_language_signed_in_with

Action = AuditEntry.Action


def _audit(request, user, action, subject, **facts):
    if user.partner_id is None:
        return  # support staff: no company log
    actor = getattr(request, "user", None)
    actor = actor if actor and actor.is_authenticated else user
    record(user.partner, action, subject, actor, {"email": user.email, **facts})


@receiver(account_signals.password_changed)
@receiver(account_signals.password_set)
@receiver(account_signals.password_reset)
def password_changed(sender, request, user, signal, **kwargs):
    how = {
        account_signals.password_changed: "changed",
        account_signals.password_set: "set",
        account_signals.password_reset: "reset",
    }[signal]
    english = "reset by email link" if how == "reset" else how
    _audit(request, user, Action.PASSWORD_CHANGED, f"{user.email}: {english}", password=how)


@receiver(account_signals.email_added)
def email_added(sender, request, user, email_address, **kwargs):
    _audit(
        request,
        user,
        Action.EMAIL_ADDED,
        f"{user.email}: {email_address.email}",
        address=email_address.email,
    )
    get_adapter(request).send_notification_mail(
        "account/email/email_added", user, {"added_email": email_address.email}
    )


@receiver(account_signals.email_removed)
def email_removed(sender, request, user, email_address, **kwargs):
    _audit(
        request,
        user,
        Action.EMAIL_REMOVED,
        f"{user.email}: {email_address.email}",
        address=email_address.email,
    )


@receiver(account_signals.email_changed)
def email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    old = from_email_address.email if from_email_address else ""
    _audit(
        request,
        user,
        Action.EMAIL_CHANGED,
        f"{old} -> {to_email_address.email}",
        changes=[["email", old, to_email_address.email]],
    )
    # allauth tells the old address; the new one hears it too.
    get_adapter(request).send_notification_mail(
        "account/email/email_changed",
        user,
        {"from_email": old, "to_email": to_email_address.email},
        email=to_email_address.email,
    )


@receiver(mfa_signals.authenticator_added)
@receiver(mfa_signals.authenticator_reset)
def authenticator_added(sender, request, user, authenticator, signal, **kwargs):
    with translation.override(settings.LANGUAGE_CODE):
        what = str(authenticator.get_type_display())
    new_codes = signal is mfa_signals.authenticator_reset
    if new_codes:
        what = f"{what}, new codes"
    _audit(
        request,
        user,
        Action.TWO_FACTOR_ADDED,
        f"{user.email}: {what}",
        authenticator=authenticator.type,
        new_codes=new_codes,
    )


@receiver(mfa_signals.authenticator_removed)
def authenticator_removed(sender, request, user, authenticator, **kwargs):
    with translation.override(settings.LANGUAGE_CODE):
        what = str(authenticator.get_type_display())
    _audit(
        request,
        user,
        Action.TWO_FACTOR_REMOVED,
        f"{user.email}: {what}",
        authenticator=authenticator.type,
    )


@receiver(account_signals.user_logged_in)
def signed_in(sender, request, user, **kwargs):
    keep_the_language_signed_in_with(request, user)
