"""Sign-in with Microsoft Entra ID: which tenant a company connected, and who may come in.

The rules (issue "People and access", Sign in with Microsoft Entra ID):
- The ID token's `tid` claim must name a tenant some company connected (EntraTenant); any other
  tenant is refused on the sign-in page, and so is a person whose account is in another company.
- An Entra account is never linked to an existing account because the email matches. It is
  linked only when the account itself is signed in and connects it (allauth's connect flow,
  from the account's connections page), or when that address has an open invitation of the
  tenant's company: signing in accepts the invitation.
- A person of a connected tenant with no account gets one in that company, without roles
  unless the company maps groups to roles.
- When the tenant maps groups to roles, the `groups` claim decides the person's roles at each
  sign-in (entitlements.services.set_roles, audited); the company's last active Global admin
  keeps that role even when the directory says otherwise, so nobody is locked out.
- Two-factor: Entra does its own. A role that requires two-factor authentication needs the
  portal's authenticator app as before, unless the token's `amr` claim says the sign-in used
  multi-factor authentication ("mfa"); then that session goes on without setting one up. An
  account that has an authenticator app is still asked for its code, as with a password.
"""

import uuid

import jwt
from allauth.account.models import EmailAddress
from allauth.account.signals import user_logged_in
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from audit.services import record
from entitlements.models import Partner, Role

from .models import EntraGroupRole, EntraTenant, Invitation, User, sync_email_address
from .people import is_last_global_admin

Action = AuditEntry.Action
# The session remembers that Entra did multi-factor authentication for this sign-in.
ENTRA_MFA_SESSION_KEY = "entra_mfa"

NOT_CONNECTED = _(
    "Your Microsoft Entra organization isn't connected to any company in the portal. Ask your "
    "company's Global admin to connect it, or sign in with your email address and password."
)
OTHER_COMPANY = _(
    "Your Microsoft Entra organization is connected to another company than your portal "
    "account's. Sign in with your email address and password."
)
NO_EMAIL = _(
    "Your Microsoft Entra account has no email address, so the portal can't tell who you are. "
    "Ask your company's Global admin."
)
EMAIL_TAKEN = _(
    "A portal account with this email address already exists. Sign in with its password, then "
    "connect Microsoft Entra ID from your account's connections page."
)
LINK_TO_OWN_COMPANY = _(
    "Connect an account of your own company's Microsoft Entra organization, or ask your "
    "Global admin to connect it."
)


class EntraOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    """allauth's OpenID Connect flow, with Entra's multi-tenant issuer: its discovery document
    names the issuer "https://login.microsoftonline.com/{tenantid}/v2.0", which each token
    fills in with its own tenant."""

    def _decode_id_token(self, app, id_token):
        issuer = self.openid_config["issuer"]
        if "{tenantid}" in issuer:
            try:
                tid = jwt.decode(id_token, options={"verify_signature": False}).get("tid")
            except jwt.PyJWTError:
                tid = None
            issuer = issuer.replace("{tenantid}", str(tid or ""))
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=issuer,
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=not self.did_fetch_access_token,
        )


def id_token_claims(sociallogin):
    """The claims of the login's ID token (a dict; empty if there is none)."""
    data = sociallogin.account.extra_data or {}
    return data.get("id_token") or {}


def tenant_of(claims):
    """The connected EntraTenant named by the claims' `tid`, with its company, or None."""
    try:
        tid = uuid.UUID(str(claims.get("tid", "")))
    except ValueError:
        return None
    return EntraTenant.objects.select_related("partner").filter(tenant_id=tid).first()


def claimed_email(claims):
    """The person's address from the token, lower case: `email`, else a `preferred_username`
    that is an address (Entra's user principal name); "" if neither."""
    for claim in ("email", "preferred_username"):
        value = str(claims.get(claim) or "").strip().lower()
        if "@" in value:
            return value
    return ""


def refuse(request, message, to="account_login"):
    """Stop the sign-in and say why on the sign-in page (or `to`)."""
    from allauth.core.exceptions import ImmediateHttpResponse

    messages.error(request, message)
    raise ImmediateHttpResponse(redirect(to))


class EntraAdapter(DefaultSocialAccountAdapter):
    """allauth's hooks, applying the rules in this module's docstring."""

    def pre_social_login(self, request, sociallogin):
        claims = id_token_claims(sociallogin)
        tenant = tenant_of(claims)
        if tenant is None:
            refuse(request, NOT_CONNECTED)
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            if getattr(request.user, "partner_id", None) != tenant.partner_id:
                refuse(request, LINK_TO_OWN_COMPANY, "socialaccount_connections")
            return
        if sociallogin.is_existing:
            if sociallogin.user.partner_id != tenant.partner_id:
                refuse(request, OTHER_COMPANY)
            if sociallogin.user.is_active:  # a deactivated account is refused by allauth next
                apply_groups(tenant, sociallogin.user, claims)
            return
        email = claimed_email(claims)
        if not email:
            refuse(request, NO_EMAIL)
        if accept_invitation(request, tenant, email, sociallogin):
            apply_groups(tenant, sociallogin.user, claims)
            return
        if (
            User.objects.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exists()
        ):
            refuse(request, EMAIL_TAKEN)
        # A new person of the tenant: allauth signs them up (save_user below).

    def is_open_for_signup(self, request, sociallogin):
        """Open to a connected tenant's people, and only automatically, with the directory's
        address: never through allauth's sign-up form, where another could be typed."""
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "socialaccount_signup":
            return False
        return tenant_of(id_token_claims(sociallogin)) is not None

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        claims = id_token_claims(sociallogin)
        user.email = claimed_email(claims)
        tenant = tenant_of(claims)
        user.partner = tenant.partner if tenant else None
        return user

    def save_user(self, request, sociallogin, form=None):
        """A new account in the tenant's company, its address verified (the directory vouches
        for it), audited, and given the roles its groups map to."""
        claims = id_token_claims(sociallogin)
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            sync_email_address(user)
            with translation.override(settings.LANGUAGE_CODE):
                record(
                    user.partner,
                    Action.ACCOUNT_JOINED,
                    f"{user.email} <- Microsoft Entra ID sign-in",
                    None,
                    {"email": user.email, "via": "entra"},
                )
        apply_groups(tenant_of(claims), user, claims)
        return user


def accept_invitation(request, tenant, email, sociallogin):
    """Link the Entra account to the invited account of `email` in the tenant's company, if it
    has an open, unexpired invitation: the invitation is accepted (used up) and audited.
    Returns True if so; False if there is no such invitation."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("user")
            .filter(
                partner=tenant.partner,
                email__iexact=email,
                user__partner=tenant.partner,  # not an account moved elsewhere since
                user__is_active=True,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if invitation is None:
            return False
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        sociallogin.connect(request, invitation.user)
        with translation.override(settings.LANGUAGE_CODE):
            record(
                tenant.partner,
                Action.INVITATION_ACCEPTED,
                f"{invitation.user.email} (Microsoft Entra ID)",
                invitation.user,
                {"email": invitation.user.email, "via": "entra"},
            )
    return True


def mapped_roles(tenant, claims):
    """The roles the tenant's mappings give to the groups in `claims`, as a set of Role; None
    when the groups don't decide: the tenant maps no group, or the token lists too many
    groups to carry them (Entra's "groups overage": a `_claim_names` entry instead)."""
    mappings = list(tenant.group_roles.all())
    if not mappings or "groups" in (claims.get("_claim_names") or {}):
        return None
    groups = claims.get("groups")
    groups = {str(group).lower() for group in groups} if isinstance(groups, list) else set()
    return {Role(mapping.role) for mapping in mappings if str(mapping.group_id) in groups}


def apply_groups(tenant, user, claims):
    """Give `user` the roles their groups map to (entitlements.services.set_roles: audited,
    and their other sessions end if a role goes). The company's last active Global admin keeps
    that role. Runs in its own transaction, before the new session starts, so the sessions it
    ends are only the old ones. Returns the roles now held, or None if the groups don't decide.
    """
    from entitlements.services import set_roles

    roles = mapped_roles(tenant, claims)
    if roles is None:
        return None
    with transaction.atomic():
        # Lock the company: two sign-ins at once can't each see the other as the last admin.
        Partner.objects.select_for_update().filter(pk=tenant.partner_id).first()
        current = set(user.role_assignments.values_list("role", flat=True))
        losing = Role.GLOBAL_ADMIN in current and Role.GLOBAL_ADMIN not in roles
        if losing and is_last_global_admin(tenant.partner, user):
            roles.add(Role.GLOBAL_ADMIN)
        set_roles(user, roles)
    return roles


@receiver(user_logged_in)
def remember_entra_mfa(sender, request, user, sociallogin=None, **kwargs):
    """Keep in the session whether Entra did multi-factor authentication for this sign-in
    (the `amr` claim), which accounts.middleware reads."""
    if sociallogin is None:
        request.session.pop(ENTRA_MFA_SESSION_KEY, None)
        return
    amr = id_token_claims(sociallogin).get("amr")
    request.session[ENTRA_MFA_SESSION_KEY] = isinstance(amr, list) and "mfa" in amr


def entra_configured():
    """Whether the portal has an Entra app registration (the sign-in button shows then)."""
    providers = getattr(settings, "SOCIALACCOUNT_PROVIDERS", {})
    return bool(providers.get("openid_connect", {}).get("APPS"))


# Account settings → Sign-in: the company's tenant and group mappings. Each action is atomic,
# locks the company's row (so two admins at once end with one result) and is audited.


def _lock(partner):
    return Partner.objects.select_for_update().get(pk=partner.pk)


def _record(partner, action, subject, actor, facts):
    with translation.override(settings.LANGUAGE_CODE):
        record(partner, action, subject, actor, facts)


@transaction.atomic
def connect_tenant(partner, tenant_id, actor):
    """Connect `partner` to the Entra tenant `tenant_id` (a UUID), or change its tenant.

    Audited ENTRA_CONNECTED, or ENTRA_CHANGED with the old and new tenant. A tenant changed
    loses its group mappings (they named the old tenant's groups). Returns the EntraTenant;
    nothing changes if it is already the one. Raises ValidationError if another company
    connected this tenant (the unique constraint).
    """
    _lock(partner)
    tenant = EntraTenant.objects.filter(partner=partner).first()
    if tenant is not None and tenant.tenant_id == tenant_id:
        return tenant
    try:
        with transaction.atomic():
            if tenant is None:
                tenant = EntraTenant.objects.create(
                    partner=partner, tenant_id=tenant_id, connected_by=actor
                )
                _record(
                    partner,
                    Action.ENTRA_CONNECTED,
                    f"tenant {tenant_id}",
                    actor,
                    {"tenant": str(tenant_id)},
                )
                return tenant
            old = tenant.tenant_id
            tenant.tenant_id = tenant_id
            tenant.connected_by = actor
            tenant.connected_at = timezone.now()
            tenant.save()
    except IntegrityError:
        raise ValidationError(
            EntraTenant._meta.get_field("tenant_id").error_messages["unique"], code="unique"
        ) from None
    tenant.group_roles.all().delete()
    _record(
        partner,
        Action.ENTRA_CHANGED,
        f"tenant {old} -> {tenant_id}",
        actor,
        {"changes": [["tenant_id", str(old), str(tenant_id)]]},
    )
    return tenant


@transaction.atomic
def disconnect_tenant(partner, actor):
    """Disconnect `partner`'s tenant: its people no longer sign in with Entra (their accounts
    stay; one without a password sets one with "Forgot your password?"). Audited
    ENTRA_DISCONNECTED. Returns True, or False if none was connected."""
    _lock(partner)
    tenant = EntraTenant.objects.filter(partner=partner).first()
    if tenant is None:
        return False
    tenant_id = tenant.tenant_id
    tenant.delete()
    _record(
        partner,
        Action.ENTRA_DISCONNECTED,
        f"tenant {tenant_id}",
        actor,
        {"tenant": str(tenant_id)},
    )
    return True


@transaction.atomic
def map_group(partner, group_id, role, actor):
    """Give `role` to the members of the group `group_id` (a UUID) of `partner`'s tenant, from
    their next sign-in. Audited ENTRA_CHANGED. Returns the EntraGroupRole; raises
    ValidationError if no tenant is connected or the group already gives the role."""
    _lock(partner)
    tenant = EntraTenant.objects.filter(partner=partner).first()
    if tenant is None:
        raise ValidationError(_("Connect a tenant first."), code="no_tenant")
    try:
        with transaction.atomic():
            mapping = EntraGroupRole.objects.create(tenant=tenant, group_id=group_id, role=role)
    except IntegrityError:
        raise ValidationError(_("This group already gives this role."), code="unique") from None
    _record(
        partner,
        Action.ENTRA_CHANGED,
        f"group {group_id} gives {Role(role).label}",
        actor,
        {"group": str(group_id), "role": role, "mapping": "added"},
    )
    return mapping


@transaction.atomic
def unmap_group(partner, mapping, actor):
    """Stop giving the mapping's role to its group, from its members' next sign-in. Audited
    ENTRA_CHANGED. Returns True, or False if it was already gone (a second click)."""
    _lock(partner)
    deleted, _kinds = EntraGroupRole.objects.filter(pk=mapping.pk, tenant__partner=partner).delete()
    if not deleted:
        return False
    _record(
        partner,
        Action.ENTRA_CHANGED,
        f"group {mapping.group_id} no longer gives {Role(mapping.role).label}",
        actor,
        {"group": str(mapping.group_id), "role": mapping.role, "mapping": "removed"},
    )
    return True
