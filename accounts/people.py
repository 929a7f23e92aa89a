"""The company's people: invitations, roles, deactivation and removal, each one action.

Every function here is atomic, checks again who may do it (entitlements.permissions) with the
rows it changes locked, writes the company's audit log, ends the sessions of an account that
lost access, and tells the person through the outbox (notices.services.tell: an email in their
language, and a notice where they can still sign in to read it) in the same transaction. The
pages (accounts.views) and Django admin both call them.

The last active Global admin of a company is kept (DOMAIN.md: "keep at least two Global
admins"): every action that could lower their number locks the company's row first, so two
admins demoting each other at once leave one.
"""

import datetime
import secrets
import uuid

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from audit.services import record
from entitlements import permissions
from entitlements.models import Partner, Role, RoleAssignment
from entitlements.services import set_roles, withdraw_open_requests
from entitlements.signals import account_left
from notices.models import Notice
from notices.services import tell, try_again
from support.services import remove_links_of

from .models import (
    Invitation,
    SignedOut,
    User,
    end_sessions,
    invitation_digest,
    invitation_key,
    sync_email_address,
)

Action = AuditEntry.Action
INVITATION_DAYS = 7

EMAIL_TAKEN = _("An account with this email address already exists.")
LAST_GLOBAL_ADMIN = _(
    "%(person)s is the company's only active Global admin. Make someone else a Global admin "
    "first: a company must keep at least one."
)
NOT_ALLOWED = _("You can't make this change.")
LINK_DEAD = {
    "unknown": _(
        "This invitation link doesn't work. Check that you opened the whole link from the "
        "email, or ask whoever invited you to send it again."
    ),
    "expired": _(
        "This invitation has expired: a link lasts 7 days. Ask whoever invited you to send it "
        "again."
    ),
    "accepted": _("This invitation was already used. Sign in with the password you chose."),
    "revoked": _(
        "This invitation was withdrawn. If you still need an account, ask whoever invited you."
    ),
}


class InvitationDead(ValidationError):
    """The invitation link can't be used; `why` is a key of LINK_DEAD."""

    def __init__(self, why):
        self.why = why
        super().__init__(LINK_DEAD[why], code=why)


def _held_roles():
    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


def lasting_global_admins(partner):
    """The company's Global admins that keep it administered: active accounts that joined (an
    invitation not accepted yet may never be) holding the role with no end (a time-boxed grant
    lapses by itself). A queryset of User."""
    lasting = RoleAssignment.objects.filter(role=Role.GLOBAL_ADMIN, expires_at__isnull=True)
    joined = Q(last_login__isnull=False) | ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return partner.users.filter(joined, is_active=True, role_assignments__in=lasting).distinct()


def is_last_global_admin(partner, person):
    """Whether the company would be left without a lasting Global admin (lasting_global_admins)
    if `person` lost the role. Ask with the company's row locked (_lock_company)."""
    return not lasting_global_admins(partner).exclude(pk=person.pk).exists()


def _lock_company(partner_id):
    # Every action that could leave a company without a Global admin takes this lock first.
    return Partner.objects.select_for_update().get(pk=partner_id)


def _lock_person(person):
    """The account re-read under a row lock (what another admin changed meanwhile counts)."""
    return User.objects.select_for_update(of=("self",)).select_related("partner").get(pk=person.pk)


def _fresh(user):
    # Roles are cached on the object for a request; after a lock, read them again.
    if hasattr(user, "_partner_roles"):
        del user._partner_roles
    return user


def _is_support_staff(actor):
    """Support staff act in Django admin, behind its own permissions, for any company."""
    return actor is not None and actor.is_staff and actor.partner_id is None


def _check(allowed, actor):
    if not (allowed or _is_support_staff(actor)):
        raise PermissionDenied(NOT_ALLOWED)


def _keep_a_global_admin(partner, person):
    """Raise ValidationError if `person` is the company's last lasting Global admin
    (DOMAIN.md: keep at least two). Call with the company's row locked."""
    lasting = lasting_global_admins(partner)
    if lasting.filter(pk=person.pk).exists() and is_last_global_admin(partner, person):
        raise ValidationError(LAST_GLOBAL_ADMIN % {"person": person.display_name})


def _in_english():
    return translation.override(settings.LANGUAGE_CODE)


def _one_event():
    """The `about` of a notice of a change with no row of its own (roles changed, an account
    deactivated): each committed change is its own event."""
    return f"event:{uuid.uuid4().hex}"


def _new_invitation(person, actor):
    """Create an open invitation for `person`; returns it with its key on `.key` and the nonce
    the key is made from on `.nonce` (neither is stored with it: only the key's digest).
    Raises IntegrityError if one is open already (one_open_invitation_per_account)."""
    nonce = secrets.token_urlsafe(32)
    key = invitation_key(nonce)
    now = timezone.now()
    invitation = Invitation.objects.create(
        partner_id=person.partner_id,
        user=person,
        email=person.email,
        invited_by=actor if actor is not None and actor.is_authenticated else None,
        key_digest=invitation_digest(key),
        sent_at=now,
        expires_at=now + datetime.timedelta(days=INVITATION_DAYS),
    )
    invitation.key, invitation.nonce = key, nonce
    return invitation


def _send_invitation(person, invitation, actor):
    # The email keeps the nonce, from which only SECRET_KEY's holder makes the link's key.
    tell(
        person,
        Notice.Kind.INVITATION,
        about=f"invitation:{invitation.pk}",
        context={
            "invitation": invitation.pk,
            "invitation_nonce": invitation.nonce,
            "partner": person.partner.name,
            "invited_by": actor.display_name if actor and actor.is_authenticated else "",
            "expires_at": invitation.expires_at,
            "days": INVITATION_DAYS,
        },
    )


def invite(partner, actor, email, first_name, last_name, roles, language=""):
    """Create an account in `partner` for `email` with `roles`, and email it an invitation.

    The account has no usable password until the invitee chooses one through the link, which
    is single-use and expires after INVITATION_DAYS (only its SHA-256 is stored). `language`
    is the invitee's (the email is written in it). Returns the Invitation, its key on `.key`.
    Raises ValidationError if an account already has the address (the user table's unique
    constraint decides), PermissionDenied if `actor` may not invite or give one of `roles`
    (permissions.grantable_roles; issue "People and access").
    """
    roles = {Role(role) for role in roles}
    _check(
        permissions.can(actor, permissions.MANAGE_USERS)
        and actor.partner_id == partner.pk
        and roles <= set(permissions.grantable_roles(actor)),
        actor,
    )
    email = User.objects.normalize_email(email).lower()
    # An address another account added and verified would let that account reset this one's
    # password: it counts as taken too.
    if EmailAddress.objects.filter(email__iexact=email).exists():
        raise ValidationError(EMAIL_TAKEN, code="email_taken")
    with transaction.atomic():
        try:
            with transaction.atomic():
                person = User.objects.create_user(
                    email=email,
                    first_name=first_name,
                    last_name=last_name,
                    partner=partner,
                    language=language,
                )
        except IntegrityError:
            raise ValidationError(EMAIL_TAKEN, code="email_taken") from None
        sync_email_address(person)
        set_roles(person, roles, actor)
        invitation = _new_invitation(person, actor)
        with _in_english():
            record(
                partner,
                Action.INVITATION_SENT,
                person.email,
                actor,
                {"email": person.email, "roles": sorted(roles)},
            )
        _send_invitation(person, invitation, actor)
    return invitation


def is_invited(person):
    """Whether the account was invited and never joined: it has no password and never signed
    in, so it can be sent the link again, or withdrawn."""
    return person.last_login is None and not person.has_usable_password()


def resend(actor, person):
    """Send `person` a new invitation link; the old one stops working. Returns the new
    Invitation (its key on `.key`).

    Raises ValidationError if the person has joined already, or if another admin sent it at
    the same moment (the one_open_invitation_per_account constraint keeps one);
    PermissionDenied unless permissions.may_manage.
    """
    with transaction.atomic():
        person = _lock_person(person)
        _check(permissions.may_manage(_fresh(actor), person), actor)
        if not is_invited(person) or not person.is_active:
            raise ValidationError(
                _("%(person)s has already joined: there is no invitation to send.")
                % {"person": person.display_name}
            )
        now = timezone.now()
        Invitation.objects.select_for_update().filter(
            user=person, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        try:
            with transaction.atomic():
                invitation = _new_invitation(person, actor)
        except IntegrityError:
            raise ValidationError(
                _("A new invitation was sent to %(email)s a moment ago.") % {"email": person.email}
            ) from None
        with _in_english():
            record(
                person.partner,
                Action.INVITATION_SENT,
                f"{person.email} (again)",
                actor,
                {"email": person.email, "again": True},
            )
        _send_invitation(person, invitation, actor)
    return invitation


def revoke(actor, person):
    """Withdraw `person`'s invitation: the link stops working, and the account, which never
    signed in, is deleted (the address is free to invite again). Returns True if it was.

    Raises ValidationError if there is no open invitation (used, withdrawn already);
    PermissionDenied unless permissions.may_manage.
    """
    with transaction.atomic():
        person = _lock_person(person)
        _check(permissions.may_manage(_fresh(actor), person), actor)
        revoked = Invitation.objects.filter(user=person, accepted_at=None, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if not revoked:
            raise ValidationError(
                _("%(email)s has no open invitation.") % {"email": person.email},
                code="no_invitation",
            )
        partner = person.partner
        with _in_english():
            record(partner, Action.INVITATION_REVOKED, person.email, actor, {"email": person.email})
        deleted = is_invited(person)
        if deleted:
            person.delete()
    return deleted


def accept(key, password):
    """Use an invitation link: the account gets `password` and the link is spent.

    Returns the account. Raises InvitationDead (a ValidationError) if the link is unknown,
    expired, used or withdrawn, and ValidationError with the password validators' messages
    (AUTH_PASSWORD_VALIDATORS) if the password won't do. Single use: the invitation's row is
    locked, so two tabs accepting at once make one acceptance. The inviter is told.
    """
    with transaction.atomic():
        # The account's row first, then the invitation's: the order resend and revoke lock them.
        person_id = (
            Invitation.objects.filter(key_digest=invitation_digest(key))
            .values_list("user", flat=True)
            .first()
        )
        User.objects.select_for_update().filter(pk=person_id).first()
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("user__partner", "invited_by")
            .filter(key_digest=invitation_digest(key))
            .first()
        )
        why = check_link(invitation)
        if why:
            raise InvitationDead(why)
        person = invitation.user
        validate_password(password, person)
        person.set_password(password)
        person.save(update_fields=["password"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        with _in_english():
            record(
                invitation.partner,
                Action.INVITATION_ACCEPTED,
                person.email,
                person,
                {"email": person.email},
            )
        inviter = invitation.invited_by
        if inviter is not None and inviter.is_active and inviter.partner_id == person.partner_id:
            tell(
                inviter,
                Notice.Kind.INVITATION_ACCEPTED,
                about=f"invitation:{invitation.pk}",
                context={
                    "person": person.display_name,
                    "email": person.email,
                    "partner": invitation.partner.name,
                },
                url=reverse("accounts:users"),
            )
    return person


def check_link(invitation):
    """Why an invitation (or None: an unknown key) can't be used, a key of LINK_DEAD, or ""."""
    if invitation is None or invitation.user is None:
        return "unknown"
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None or not invitation.user.is_active:
        return "revoked"
    if invitation.user.partner_id != invitation.partner_id:
        return "revoked"
    if timezone.now() >= invitation.expires_at:
        return "expired"
    return ""


def find_invitation(key):
    """The invitation a link's key names, or None."""
    return (
        Invitation.objects.select_related("user", "partner")
        .filter(key_digest=invitation_digest(key))
        .first()
    )


def change_roles(actor, person, roles):
    """Give `person` exactly `roles`. Returns True if something changed.

    Raises PermissionDenied unless permissions.may_change_roles and every role added or taken
    away is one `actor` may grant; ValidationError if it would take Global admin from the
    company's last active one. Sessions end if a role was taken away (set_roles); the person
    is told.
    """
    wanted = {Role(role) for role in roles}
    with transaction.atomic():
        _lock_company(person.partner_id)
        person = _lock_person(person)
        actor = _fresh(actor)
        current = set(permissions.roles_of(person))  # a lapsed grant not yet swept: not held
        _check(
            permissions.may_change_roles(actor, person)
            and (wanted ^ current) <= set(permissions.grantable_roles(actor)),
            actor,
        )
        if wanted == current:
            return False
        if Role.GLOBAL_ADMIN in current and Role.GLOBAL_ADMIN not in wanted and person.is_active:
            _keep_a_global_admin(person.partner, person)
        set_roles(person, wanted, actor)
        if person.is_active and not is_invited(person):
            tell(
                person,
                Notice.Kind.ROLES_CHANGED,
                about=_one_event(),
                context={"partner": person.partner.name, "roles": sorted(wanted)},
                url=reverse("accounts:my_access"),
            )
    return True


def deactivate(actor, person):
    """Stop `person` signing in: their sessions end and their contract links go. Returns
    True if the account was active.

    Raises PermissionDenied unless permissions.may_manage; ValidationError for the company's
    last active Global admin.
    """
    with transaction.atomic():
        if person.partner_id:
            _lock_company(person.partner_id)
        person = _lock_person(person)
        _check(permissions.may_manage(_fresh(actor), person), actor)
        if not person.is_active:
            return False
        if person.partner_id:
            _keep_a_global_admin(person.partner, person)
        person.is_active = False
        person.save(update_fields=["is_active"])
        remove_links_of(person, actor, "deactivated")
        account_left.send(sender=User, user=person, actor=actor, why="deactivated")
        if person.partner_id:
            with _in_english():
                record(
                    person.partner,
                    Action.ACCOUNT_DEACTIVATED,
                    person.email,
                    actor,
                    {"email": person.email},
                )
        transaction.on_commit(lambda: end_sessions(person, SignedOut.DEACTIVATED))
        if not is_invited(person):
            tell(
                person,
                Notice.Kind.ACCOUNT_DEACTIVATED,
                about=_one_event(),
                context={"partner": person.partner.name if person.partner_id else ""},
            )
    return True


def reactivate(actor, person):
    """Let a deactivated account sign in again, with the roles it kept. Returns True if it
    was deactivated. Raises PermissionDenied unless permissions.may_manage."""
    with transaction.atomic():
        person = _lock_person(person)
        _check(permissions.may_manage(_fresh(actor), person), actor)
        if person.is_active:
            return False
        person.is_active = True
        person.save(update_fields=["is_active"])
        if person.partner_id:
            with _in_english():
                record(
                    person.partner,
                    Action.ACCOUNT_REACTIVATED,
                    person.email,
                    actor,
                    {"email": person.email},
                )
        if is_invited(person):
            # An invitation whose email was given up while the account was deactivated goes
            # now, its link still open.
            open_invitations = Invitation.objects.filter(
                user=person, accepted_at=None, revoked_at=None
            ).values_list("pk", flat=True)
            try_again(
                person,
                Notice.Kind.INVITATION,
                [f"invitation:{pk}" for pk in open_invitations],
            )
        else:
            tell(
                person,
                Notice.Kind.ACCOUNT_REACTIVATED,
                about=_one_event(),
                context={"partner": person.partner.name if person.partner_id else ""},
                url="/",
            )
    return True


def remove_from_company(actor, person):
    """Take `person` out of their company: their roles, contract links and open invitations
    go, the account belongs to no company and can't sign in, and its sessions end. Support
    staff can give it a company again in Django admin.

    Returns nothing. Raises PermissionDenied unless permissions.may_manage; ValidationError
    for the company's last active Global admin.
    """
    with transaction.atomic():
        partner = _lock_company(person.partner_id)
        person = _lock_person(person)
        _check(permissions.may_manage(_fresh(actor), person), actor)
        if person.is_active:
            _keep_a_global_admin(partner, person)
        was_invited = is_invited(person)
        set_roles(person, [], actor)
        remove_links_of(person, actor, "removed")
        account_left.send(sender=User, user=person, actor=actor, why="removed")
        Invitation.objects.filter(user=person, accepted_at=None, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        withdraw_open_requests(person)
        person.partner = None
        person.is_active = False
        person.save(update_fields=["partner", "is_active"])
        with _in_english():
            record(partner, Action.ACCOUNT_REMOVED, person.email, actor, {"email": person.email})
        transaction.on_commit(lambda: end_sessions(person, SignedOut.DEACTIVATED))
        if not was_invited:
            tell(
                person,
                Notice.Kind.ACCOUNT_REMOVED,
                about=_one_event(),
                context={"partner": partner.name},
            )
