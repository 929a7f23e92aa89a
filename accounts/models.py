import logging

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.cache import cache
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

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
