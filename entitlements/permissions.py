"""Who may do what. The only place that maps a partner's roles to what they may do.

Views ask for a capability ("benefits.activate"), never for a role name, and reach a company's
data only through `partner_object_or_404`, so another company's object is a 404.
"""

import functools

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.decorators import login_required

from .models import Role, RoleAssignment

VIEW_BENEFITS = "benefits.view"
ACTIVATE_BENEFITS = "benefits.activate"
# Assign a benefit to one of the company's users: an Azure usage-based subscription's monthly
# credit (seed 003: "you do need to be the global admin to assign benefits to employees").
ASSIGN_BENEFITS = "benefits.assign"
# Add, update or change the company's marketing contact, who receives the instructions of its
# Go-To-Market offers (seed 003: "Global admin, MPN Partner admin").
SET_MARKETING_CONTACT = "benefits.marketing_contact"
# A CSP partner's customers and their Service management: their services, service health
# (seed 002: "admin agents" support the customers; a Global admin may act as one).
VIEW_CUSTOMERS = "customers.view"
# File a service request on a customer's behalf, and follow every service request of the
# company (seed 002: "Report problems on behalf of a customer").
FILE_CUSTOMER_REQUESTS = "customers.file_requests"
# See the company's users and their roles (Account settings → Users).
VIEW_ROLES = "roles.view"
# Invite, deactivate, reactivate and remove users; approve requests for roles one may grant.
MANAGE_USERS = "users.manage"
# Grant and remove every role but Global admin, and never one's own (DOMAIN.md: User admin).
ASSIGN_ROLES = "roles.assign"
# Grant and remove Global admin too, and change a Global admin's account.
ASSIGN_ANY_ROLE = "roles.assign_any"
# Connect the company's Microsoft Entra tenant, and map its groups to roles.
MANAGE_SIGN_IN = "sign_in.manage"
# Reveal a software or cloud product's license keys (Get keys); drawing them and the first
# view of them count against a refund (seed 003: "Global admin or MPN partner admin").
GET_KEYS = "benefits.get_keys"
RECEIVE_ACTIVATION_NOTICES = "benefits.activation_notices"
# Be told of contracts about to end, incidents running out, renewal windows and advisory hours
# expiring (notices.reminders): the people who may activate, and renew, the benefits.
RECEIVE_REMINDERS = "benefits.reminders"
VIEW_AUDIT_LOG = "audit.view"
# See which accounts hold the company's support contracts, remove a holder, re-issue the IDs.
MANAGE_CONTRACTS = "contracts.manage"
# See every case of the company (incidents, advisory requests), not only one's own; everyone
# sees the cases they opened (cases.services.visible_cases).
VIEW_COMPANY_CASES = "cases.view_company"
# Ask to cancel a membership offer for a refund (cancellations; seed 003).
CANCEL_OFFERS = "offers.cancel"
# Create and revoke the company's API tokens (Account settings → API tokens; issue 19).
MANAGE_API_TOKENS = "api.tokens"
# Add and remove the company's webhook endpoints, read their delivery logs and redeliver; be
# told when the portal disables one that keeps failing (Account settings → Webhooks; issue 19).
MANAGE_WEBHOOKS = "api.webhooks"
# Holders must use two-factor authentication: every role that sees the Access ID and Contract
# ID, as Partner Center itself requires of every user (DOMAIN.md, later docs).
TWO_FACTOR_REQUIRED = "account.two_factor_required"

CAPABILITIES = {
    Role.GLOBAL_ADMIN: frozenset(
        {
            VIEW_BENEFITS,
            ACTIVATE_BENEFITS,
            CANCEL_OFFERS,
            ASSIGN_BENEFITS,
            GET_KEYS,
            SET_MARKETING_CONTACT,
            VIEW_CUSTOMERS,
            FILE_CUSTOMER_REQUESTS,
            RECEIVE_ACTIVATION_NOTICES,
            RECEIVE_REMINDERS,
            VIEW_AUDIT_LOG,
            MANAGE_CONTRACTS,
            VIEW_COMPANY_CASES,
            TWO_FACTOR_REQUIRED,
            VIEW_ROLES,
            MANAGE_USERS,
            ASSIGN_ROLES,
            ASSIGN_ANY_ROLE,
            MANAGE_SIGN_IN,
            MANAGE_API_TOKENS,
            MANAGE_WEBHOOKS,
        }
    ),
    Role.MPN_PARTNER_ADMIN: frozenset(
        {
            VIEW_BENEFITS,
            ACTIVATE_BENEFITS,
            CANCEL_OFFERS,
            GET_KEYS,
            SET_MARKETING_CONTACT,
            RECEIVE_REMINDERS,
            VIEW_ROLES,
            VIEW_COMPANY_CASES,
            TWO_FACTOR_REQUIRED,
        }
    ),
    Role.ADMIN_AGENT: frozenset(
        {VIEW_BENEFITS, VIEW_CUSTOMERS, FILE_CUSTOMER_REQUESTS, TWO_FACTOR_REQUIRED}
    ),
    Role.USER_ADMIN: frozenset({VIEW_ROLES, MANAGE_USERS, ASSIGN_ROLES}),
}

# What each capability lets a person do, in plain words, for "My access": the same map the
# code decides with, so the page can't say something the code doesn't do.
IN_PLAIN_WORDS = {
    VIEW_BENEFITS: _("See the company's membership benefits, and their Access ID and Contract ID"),
    ACTIVATE_BENEFITS: _(
        "Activate benefits: technical benefits, cloud subscriptions and Go-To-Market offers"
    ),
    CANCEL_OFFERS: _("Ask to cancel a membership offer for a refund"),
    ASSIGN_BENEFITS: _("Assign benefits to the company's users, such as Azure credit"),
    GET_KEYS: _("Reveal the license keys of software and cloud products (Get keys)"),
    SET_MARKETING_CONTACT: _("Set the company's marketing contact for Go-To-Market offers"),
    VIEW_CUSTOMERS: _("See the company's CSP customers, their services and service health"),
    FILE_CUSTOMER_REQUESTS: _(
        "File service requests on the company's CSP customers' behalf, and follow them all"
    ),
    RECEIVE_ACTIVATION_NOTICES: _("Get an email when an activation is ready"),
    RECEIVE_REMINDERS: _(
        "Be reminded of contracts about to end, incidents running out and renewals"
    ),
    VIEW_AUDIT_LOG: _("Read the company's audit log"),
    MANAGE_CONTRACTS: _("See who holds the company's support contracts, and re-issue their IDs"),
    VIEW_ROLES: _("See the company's users and their roles"),
    MANAGE_USERS: _("Invite, deactivate, reactivate and remove users"),
    ASSIGN_ROLES: _("Give and take away roles, except Global admin and your own"),
    ASSIGN_ANY_ROLE: _("Give and take away every role, Global admin included"),
    MANAGE_SIGN_IN: _("Connect the company's Microsoft Entra ID for sign-in"),
    VIEW_COMPANY_CASES: _("See every support case of the company, not only your own"),
    MANAGE_API_TOKENS: _("Create and revoke the company's API tokens"),
    MANAGE_WEBHOOKS: _("Add webhook endpoints, read their delivery logs and redeliver"),
    TWO_FACTOR_REQUIRED: _("Sign in with two-factor authentication (required)"),
}

# What each API token scope lets a request do: these capabilities, each held by the token's
# creator when the request comes (a creator who loses a role takes the token's power along).
SCOPE_CAPABILITIES = {
    "benefits:read": frozenset({VIEW_BENEFITS}),
    "activations:write": frozenset({VIEW_BENEFITS, ACTIVATE_BENEFITS}),
    "support:read": frozenset({VIEW_COMPANY_CASES}),
    "support:write": frozenset({VIEW_COMPANY_CASES}),
}


def token_may(creator, scopes, scope):
    """Whether a token of `scopes` (a list of scope names) created by `creator` may act under
    `scope` now: the scope granted, and its capabilities (SCOPE_CAPABILITIES) all the
    creator's today."""
    return scope in scopes and all(can(creator, c) for c in SCOPE_CAPABILITIES[scope])


# Membership benefits exist only for companies associated with the Microsoft Partner Network.
MPN_CAPABILITIES = frozenset(
    {
        VIEW_BENEFITS,
        ACTIVATE_BENEFITS,
        CANCEL_OFFERS,
        ASSIGN_BENEFITS,
        GET_KEYS,
        SET_MARKETING_CONTACT,
        MANAGE_CONTRACTS,
    }
)
# What a company not yet moved from Partner Membership Center does there, not here (seed 003:
# it "should continue to manage your MPN membership benefits in PMC"); it still sees them.
MANAGED_IN_PMC = frozenset(
    {ACTIVATE_BENEFITS, CANCEL_OFFERS, ASSIGN_BENEFITS, GET_KEYS, SET_MARKETING_CONTACT}
)


# What only a company in the Cloud Solution Provider program has (seed 002).
CSP_CAPABILITIES = frozenset({VIEW_CUSTOMERS, FILE_CUSTOMER_REQUESTS})


def _grants_in_force():
    """Role assignments not past their end: a time-boxed grant past its end is gone even
    before the sweeper deletes it."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


def roles_of(user):
    """The user's roles in their company, read once per request."""
    if not user.is_authenticated or user.partner_id is None:
        return frozenset()
    if not hasattr(user, "_partner_roles"):
        held = user.role_assignments.filter(_grants_in_force())
        user._partner_roles = frozenset(Role(role) for role in held.values_list("role", flat=True))
    return user._partner_roles


def read_roles(users):
    """Read the roles of many users (a list of User) in one query, as `roles_of` would for each,
    for code that asks `can` of a batch of people (the outbox's sender). Returns nothing."""
    held = {}
    assignments = RoleAssignment.objects.filter(
        _grants_in_force(),
        user__in=[user.pk for user in users if user.partner_id is not None],
    ).values_list("user_id", "role")
    for user_id, role in assignments:
        held.setdefault(user_id, set()).add(Role(role))
    for user in users:
        user._partner_roles = frozenset(held.get(user.pk, ()))


def capabilities_of(user):
    return frozenset().union(*(CAPABILITIES[role] for role in roles_of(user)))


def can(user, capability):
    """Whether `user` may use `capability` (one of the constants above) in their company: a
    role of theirs grants it, and their company is one where it applies (MPN_CAPABILITIES,
    MANAGED_IN_PMC, CSP_CAPABILITIES)."""
    if capability in MPN_CAPABILITIES and not is_mpn_member(user):
        return False
    if capability in MANAGED_IN_PMC and in_partner_membership_center(user):
        return False
    if capability in CSP_CAPABILITIES and not is_csp(user):
        return False
    return capability in capabilities_of(user)


def in_partner_membership_center(user):
    """Whether the user's company still manages its membership benefits in Partner Membership
    Center (seed 003): its Benefits pages say so and offer no action."""
    return (
        user.is_authenticated
        and user.partner is not None
        and user.partner.in_partner_membership_center
    )


def is_csp(user):
    """Whether the user's company is in the Cloud Solution Provider program."""
    return user.is_authenticated and user.partner is not None and user.partner.is_csp


def is_mpn_member(user):
    return user.is_authenticated and user.partner is not None and user.partner.is_mpn_associated


def needs_two_factor(user):
    """Support staff, and holders of a role that requires it."""
    return user.is_authenticated and (user.is_staff or TWO_FACTOR_REQUIRED in capabilities_of(user))


def may_file_advisory_requests(user):
    """Any user of an MPN company, whatever their roles, files advisory requests and sees the
    company's advisory hours (DOMAIN.md: advisory hours need no activation); not one still in
    Partner Membership Center, whose technical benefits are used outside Partner Center."""
    return is_mpn_member(user) and not in_partner_membership_center(user)


def roles_that_can(capability):
    return [role for role in Role if capability in CAPABILITIES[role]]


def people_who_can(partner, capability):
    """The company's active users who hold a role with the capability, e.g. who can activate.
    A time-boxed grant past its end counts for nothing, even before the sweeper removes it."""
    return _holders(capability).filter(partner=partner)


def people_who_can_in(partners, capability):
    """`people_who_can` for many companies in one query (the activation drain's batch).
    Takes companies or their pks; returns {company pk: [User, ...]}, each list in
    `people_who_can`'s order, a company where nobody can left out."""
    holders = {}
    for person in _holders(capability).filter(partner__in=partners):
        holders.setdefault(person.partner_id, []).append(person)
    return holders


def _holders(capability):
    return (
        get_user_model()
        .objects.filter(
            Q(role_assignments__expires_at__isnull=True)
            | Q(role_assignments__expires_at__gt=timezone.now()),
            is_active=True,
            role_assignments__role__in=roles_that_can(capability),
        )
        .distinct()
        .order_by("first_name", "last_name", "email")
    )


def grantable_roles(actor):
    """The roles `actor` may give or take away (a list of Role, in Role's order): every role
    for a Global admin, every role but Global admin for a User admin, none otherwise
    (DOMAIN.md, roles table; issue "People and access")."""
    if can(actor, ASSIGN_ANY_ROLE):
        return list(Role)
    if can(actor, ASSIGN_ROLES):
        return [role for role in Role if role != Role.GLOBAL_ADMIN]
    return []


def may_change_roles(actor, person):
    """Whether `actor` may change `person`'s roles at all: someone of their own company, not
    a Global admin unless `actor` may grant that role, and not themselves unless they may
    grant every role (a User admin can't raise or lower their own access). The last active
    Global admin is kept by the action functions, which lock the company (accounts.people)."""
    if not _same_company(actor, person) or not grantable_roles(actor):
        return False
    if person.pk == actor.pk:
        return can(actor, ASSIGN_ANY_ROLE)
    return can(actor, ASSIGN_ANY_ROLE) or Role.GLOBAL_ADMIN not in roles_of(person)


def may_manage(actor, person):
    """Whether `actor` may deactivate, reactivate, remove or re-invite `person`: someone else
    of their own company, and a Global admin only if `actor` may grant that role. Nobody does
    this to their own account here: a slip would lock them out."""
    return (
        _same_company(actor, person)
        and person.pk != actor.pk
        and can(actor, MANAGE_USERS)
        and (can(actor, ASSIGN_ANY_ROLE) or Role.GLOBAL_ADMIN not in roles_of(person))
    )


def may_decide(actor, access_request):
    """Whether `actor` may approve or decline a request for a role: someone who may grant that
    role, not their own request, and not a Global admin's unless `actor` may grant that."""
    return (
        actor.is_authenticated
        and access_request.partner_id == actor.partner_id
        and access_request.user_id != actor.pk
        and access_request.role in grantable_roles(actor)
        # A Global admin's roles are changed only by someone who may grant Global admin.
        and (can(actor, ASSIGN_ANY_ROLE) or Role.GLOBAL_ADMIN not in roles_of(access_request.user))
    )


def _same_company(actor, person):
    return (
        actor.is_authenticated
        and actor.partner_id is not None
        and person.partner_id == actor.partner_id
    )


def partner_object_or_404(queryset, partner, **lookup):
    """The company's object, or 404: another company's object looks like no object at all."""
    return get_object_or_404(queryset.filter(partner=partner), **lookup)


def capability_required(capability):
    """Let the view run only for a signed-in user whose roles grant the capability.

    Everyone else is told why, with the 403 status: a company not associated with MPN gets
    Partner Center's own message, one still in Partner Membership Center seed 003's; a user
    without the role learns whom to ask.
    """

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            user = request.user
            if capability in MPN_CAPABILITIES and not is_mpn_member(user):
                context = {
                    "global_admins": (
                        people_who_can(user.partner, ASSIGN_ANY_ROLE) if user.partner else []
                    )
                }
                return render(request, "entitlements/not_mpn_associated.html", context, status=403)
            if capability in MANAGED_IN_PMC and in_partner_membership_center(user):
                context = {"partner": user.partner}
                return render(request, "entitlements/in_pmc.html", context, status=403)
            if capability in CSP_CAPABILITIES and not is_csp(user):
                return render(request, "customers/not_csp.html", status=403)
            if not can(user, capability):
                context = {
                    "ask": people_who_can(user.partner, ASSIGN_ANY_ROLE) if user.partner else [],
                    "roles": sorted(str(role.label) for role in roles_of(user)),
                }
                return render(request, "entitlements/missing_role.html", context, status=403)
            return view(request, user.partner, *args, **kwargs)

        return wrapper

    return decorator
