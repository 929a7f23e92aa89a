import hashlib
import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most
from entitlements.models import Role

logger = logging.getLogger(__name__)


class AccountManager(UserManager):
    """Users are known by their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An account needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def staff_who_may(self, codename):
        """Active support staff holding the Django permission `codename` (e.g.
        "change_cancellationrequest"), directly, through a group, or as superusers: whom to
        tell of something waiting for them. A queryset, ordered by pk."""
        may = Q(groups__permissions__codename=codename) | Q(user_permissions__codename=codename)
        return (
            self.filter(is_active=True, is_staff=True)
            .filter(Q(is_superuser=True) | may)
            .distinct()
            .order_by("pk")
        )


class User(AbstractUser):
    """A person who signs in. Partner users belong to one company; support staff to none."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    partner = models.ForeignKey(
        "entitlements.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("The company this account belongs to. Empty for support staff."),
    )
    # The pages start in it after sign-in, and every email to the account is written in it.
    # Empty until the person first signs in or chooses one: then the language they used.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = AccountManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ignoring_case",
                violation_error_message=_("An account with this email address already exists."),
            ),
        ]

    def __str__(self):
        return self.email

    @property
    def display_name(self):
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        super().save(*args, **kwargs)


class Invitation(models.Model):
    """A link that lets an invited person set their password and join their company.

    The invited account exists from the invitation on (so its email is taken once, by the
    user table's constraint); the link is single-use and lasts INVITATION_DAYS. Sending it
    again kills the old link: only one open invitation per account (a constraint). Only a
    digest of the link's key is stored.
    """

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="invitations"
    )
    # Kept when the account is deleted (a revoked invitation of someone who never joined).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    email = models.EmailField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key_digest = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                "user",
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_account",
                violation_error_message=_("This person already has an open invitation."),
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_accepted_or_revoked_not_both",
                violation_error_message=_("An invitation is either accepted or withdrawn."),
            ),
        ]

    def __str__(self):
        return f"{self.email} ({self.sent_at:%Y-%m-%d})"

    @property
    def is_open(self):
        return self.accepted_at is None and self.revoked_at is None

    def is_usable(self, now=None):
        return self.is_open and (now or timezone.now()) < self.expires_at


def invitation_key(nonce):
    """The key of an invitation's link, from the nonce its email keeps (a str): an HMAC of it
    with SECRET_KEY, so neither the invitation nor the outbox holds a key that works. Returns
    64 hex characters."""
    return salted_hmac("accounts.invitation", nonce, algorithm="sha256").hexdigest()


def invitation_digest(key):
    """The stored form of an invitation key (a str): its SHA-256 in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def invitation_url(key):
    """The whole address of an invitation's link, on PORTAL_URL."""
    return settings.PORTAL_URL.rstrip("/") + reverse("accounts:invitation", args=[key])


class AccessRequest(models.Model):
    """A user's request for a role in their company, and what became of it.

    One open request per user and role (a constraint); decided once, by someone who may grant
    the role (entitlements.permissions.may_decide). An approval may be for a number of days,
    after which the role lapses by itself (the sweeper).
    """

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="access_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    reason = models.TextField(max_length=1000)
    asked_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(max_length=1000, blank=True)
    # An approval for this many days; empty: until someone takes the role away.
    days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "user",
                "role",
                condition=Q(decided_at__isnull=True),
                name="one_open_access_request_per_user_and_role",
                violation_error_message=_("You have already asked for this role."),
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True, decision="")
                | (Q(decided_at__isnull=False) & ~Q(decision="")),
                name="access_request_decided_with_a_decision",
                violation_error_message=_(
                    "A request has a decision once it is decided, and only then."
                ),
            ),
            at_most(
                "reason",
                1000,
                "access_request_reason_length",
                _("A reason is at most 1,000 characters."),
            ),
            at_most(
                "note", 1000, "access_request_note_length", _("A note is at most 1,000 characters.")
            ),
            models.CheckConstraint(
                condition=Q(days__isnull=True) | Q(days__gte=1, days__lte=365, decision="approved"),
                name="access_request_days_only_on_an_approval",
                violation_error_message=_(
                    "A number of days, from 1 to 365, belongs to an approval only."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_role_display()}"


def sync_email_address(user):
    """Make allauth's address book say what the account says: the account's email, verified
    and primary, and no other. An old address left there would still receive password
    resets for the account."""
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


# Why an account's sessions were ended: a cache key prefix, before the ended session's key, for
# the next page to say (accounts.middleware.SignedOutReasonMiddleware); only the browser that
# held the session knows its key. Also the session key the middleware uses for one request.
SIGNED_OUT_BECAUSE = "signed-out-because:"
# Long enough for a tab left open over a weekend; the reason is told once, then forgotten.
SIGNED_OUT_REASON_SECONDS = 7 * 24 * 3600


class SignedOut(models.TextChoices):
    ROLES_CHANGED = (
        "roles_changed",
        _(
            "You were signed out because your roles changed. Sign in again to continue with the "
            "access you have now."
        ),
    )
    MOVED = (
        "moved",
        _(
            "You were signed out because your account was moved to another company. Sign in "
            "again to continue."
        ),
    )
    DEACTIVATED = (
        "deactivated",
        _(
            "You were signed out because your account was deactivated. If you still need it, ask "
            "a Global admin of your company."
        ),
    )
    PASSWORD_CHANGED = (
        "password_changed",
        _("You were signed out because your password was changed. Sign in with the new password."),
    )


def end_sessions(user, why=None):
    """Sign the account out everywhere: its access changed under it.

    Takes the account and `why` (a SignedOut value, or None). Each session is deleted, so a
    request of it still in flight can't write it back; `why` is kept in the cache under the
    ended session's key for SIGNED_OUT_REASON_SECONDS, so that the browser that held it (and
    only that one: it sends the key) is told on its next page. Returns nothing; a cache that
    can't be written loses only the reason (logged).
    """
    from allauth.usersessions.models import UserSession

    for session in UserSession.objects.filter(user=user):
        if why is not None:
            remember_why(session.session_key, why)
        session.end()


def remember_why(session_key, why):
    """Keep `why` (a SignedOut value) for the browser holding `session_key`; None if it can't."""
    try:
        cache.set(SIGNED_OUT_BECAUSE + session_key, str(why), SIGNED_OUT_REASON_SECONDS)
    except Exception:  # the reason is a courtesy: signing out must not fail for it
        logger.warning("Could not keep why session %s… ended", session_key[:6], exc_info=True)


def recall_why(session_key):
    """The SignedOut value kept for `session_key`, once (it is forgotten), or None."""
    try:
        why = cache.get(SIGNED_OUT_BECAUSE + session_key)
        if why is not None:
            cache.delete(SIGNED_OUT_BECAUSE + session_key)
    except Exception:
        logger.warning("Could not read why a session ended", exc_info=True)
        return None
    return why


class EntraTenant(models.Model):
    """The Microsoft Entra ID tenant whose people may sign in to a company (accounts.entra).

    One tenant per company, and one company per tenant (constraints): a tenant's sign-in
    lands in exactly one company.
    """

    partner = models.OneToOneField(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="entra_tenant"
    )
    tenant_id = models.UUIDField(
        _("tenant ID"),
        unique=True,
        error_messages={"unique": _("This tenant is already connected to another company.")},
    )
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Microsoft Entra tenant")

    def __str__(self):
        return str(self.tenant_id)


class EntraGroupRole(models.Model):
    """A portal role given to the members of a group of the company's tenant. When a tenant
    has any, the `groups` claim decides a person's roles at each sign-in."""

    tenant = models.ForeignKey(EntraTenant, on_delete=models.CASCADE, related_name="group_roles")
    group_id = models.UUIDField(_("group object ID"))
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        ordering = ["role", "group_id"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "group_id",
                "role",
                name="one_mapping_per_tenant_group_and_role",
                violation_error_message=_("This group already gives this role."),
            ),
        ]

    def __str__(self):
        return f"{self.group_id} → {self.role}"
