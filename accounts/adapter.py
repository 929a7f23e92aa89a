import logging
from smtplib import SMTPException

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import resolve_url
from django.utils import translation

from benefits_portal.views import landing_url
from entitlements.permissions import VIEW_BENEFITS, VIEW_ROLES, can

from .models import User

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts are created by the company's admins or by support staff, never by visitors.
        return False

    def get_login_redirect_url(self, request):
        """Where a sign-in without a `next` lands: support staff in the admin (they have no
        company, so no Benefits page of their own), someone who may see the company's users
        but not its benefits (a User admin) on Users, everyone else on Technical benefits."""
        user = request.user
        if not can(user, VIEW_BENEFITS) and can(user, VIEW_ROLES):
            return resolve_url("accounts:users")
        return resolve_url(landing_url(user))

    def get_client_ip(self, request):
        """The client's address for every limit: allauth's reading of X-Forwarded-For behind
        TRUSTED_PROXY_COUNT proxies, or REMOTE_ADDR when the header has fewer entries than
        that (allauth would raise, and answer 500, on a request anyone can send)."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - a key only

    def send_mail(self, template_prefix, email, context):
        """allauth's emails (reset links, codes, notices of a change) are sent while the page
        waits: a mail server that is away is logged, not turned into an error page after the
        change itself was saved."""
        try:
            self.send_mail_or_raise(template_prefix, email, context)
        except (OSError, SMTPException):
            log.exception("Email %s to %s not sent", template_prefix, email)

    def send_mail_or_raise(self, template_prefix, email, context):
        """allauth's sending, for a caller that tells the person when it fails, in the
        language of the account the address belongs to (see `reader_of`), else the current
        one; raises OSError or SMTPException when the mail server can't be reached or
        refuses."""
        reader = self.reader_of(email, context)
        # An account without a language yet reads the page's, as a stranger does: the
        # person who just asked for the email, most often.
        with translation.override(getattr(reader, "language", "") or translation.get_language()):
            super().send_mail(template_prefix, email, context)

    @staticmethod
    def reader_of(email, context):
        """The account that reads mail at `email` (its sign-in address or one it added, in
        any case), else the account the email is about (a notice to an address it just
        left), else None: a stranger reads the page's language."""
        owner = (
            User.objects.filter(email__iexact=email).first()
            or User.objects.filter(
                pk__in=EmailAddress.objects.filter(email__iexact=email).values("user")
            ).first()
        )
        about = context.get("user")
        return owner or (about if isinstance(about, User) else None)
