from importlib import import_module

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


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


# Why an account's sessions were ended, kept in each of them for the next page to say
# (accounts.middleware.SignedOutReasonMiddleware): only the browser that held the session
# ever sees it.
SIGNED_OUT_BECAUSE = "signed_out_because"


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

    Takes the account and `why` (a SignedOut value). Each session is emptied rather than
    deleted and keeps only `why`, so the browser that held it is told on its next page;
    without `why`, the sessions are deleted. Returns nothing.
    """
    from allauth.usersessions.models import UserSession

    store_of = import_module(settings.SESSION_ENGINE).SessionStore
    for session in UserSession.objects.filter(user=user):
        if why is None:
            session.end()
            continue
        store = store_of(session.session_key)
        if store.exists(session.session_key):
            store.clear()
            store[SIGNED_OUT_BECAUSE] = str(why)
            store.save()
        session.delete()
