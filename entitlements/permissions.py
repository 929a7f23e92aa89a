"""Who may do what. The only place that maps a partner's roles to what they may do.

Views ask for a capability ("benefits.activate"), never for a role name, and reach a company's
data only through `partner_object_or_404`, so another company's object is a 404.
"""

import functools

from django.shortcuts import get_object_or_404, render

from accounts.decorators import login_required

from .models import Role

VIEW_BENEFITS = "benefits.view"
ACTIVATE_BENEFITS = "benefits.activate"
VIEW_ROLES = "roles.view"
MANAGE_USERS = "users.manage"
ASSIGN_ROLES = "roles.assign"
ASSIGN_ANY_ROLE = "roles.assign_any"
RECEIVE_ACTIVATION_NOTICES = "benefits.activation_notices"
VIEW_AUDIT_LOG = "audit.view"
# See which accounts hold the company's support contracts, remove a holder, re-issue the IDs.
MANAGE_CONTRACTS = "contracts.manage"
# Holders must use two-factor authentication: every role that sees the Access ID and Contract
# ID, as Partner Center itself requires of every user (DOMAIN.md, later docs).
TWO_FACTOR_REQUIRED = "account.two_factor_required"

CAPABILITIES = {
    Role.GLOBAL_ADMIN: frozenset(
        {
            VIEW_BENEFITS,
            ACTIVATE_BENEFITS,
            RECEIVE_ACTIVATION_NOTICES,
            VIEW_AUDIT_LOG,
            MANAGE_CONTRACTS,
            TWO_FACTOR_REQUIRED,
            VIEW_ROLES,
            MANAGE_USERS,
            ASSIGN_ROLES,
            ASSIGN_ANY_ROLE,
        }
    ),
    Role.MPN_PARTNER_ADMIN: frozenset(
        {VIEW_BENEFITS, ACTIVATE_BENEFITS, VIEW_ROLES, TWO_FACTOR_REQUIRED}
    ),
    Role.ADMIN_AGENT: frozenset({VIEW_BENEFITS, TWO_FACTOR_REQUIRED}),
    Role.USER_ADMIN: frozenset({VIEW_ROLES, MANAGE_USERS, ASSIGN_ROLES}),
}

# Membership benefits exist only for companies associated with the Microsoft Partner Network.
MPN_CAPABILITIES = frozenset({VIEW_BENEFITS, ACTIVATE_BENEFITS, MANAGE_CONTRACTS})


def roles_of(user):
    """The user's roles in their company, read once per request."""
    if not user.is_authenticated or user.partner_id is None:
        return frozenset()
    if not hasattr(user, "_partner_roles"):
        user._partner_roles = frozenset(
            Role(role) for role in user.role_assignments.values_list("role", flat=True)
        )
    return user._partner_roles


def capabilities_of(user):
    return frozenset().union(*(CAPABILITIES[role] for role in roles_of(user)))


def can(user, capability):
    if capability in MPN_CAPABILITIES and not is_mpn_member(user):
        return False
    return capability in capabilities_of(user)


def is_mpn_member(user):
    return user.is_authenticated and user.partner is not None and user.partner.is_mpn_associated


def needs_two_factor(user):
    """Support staff, and holders of a role that requires it."""
    return user.is_authenticated and (user.is_staff or TWO_FACTOR_REQUIRED in capabilities_of(user))


def roles_that_can(capability):
    return [role for role in Role if capability in CAPABILITIES[role]]


def people_who_can(partner, capability):
    """The company's active users who hold a role with the capability, e.g. who can activate."""
    return (
        partner.users.filter(is_active=True, role_assignments__role__in=roles_that_can(capability))
        .distinct()
        .order_by("first_name", "last_name", "email")
    )


def partner_object_or_404(queryset, partner, **lookup):
    """The company's object, or 404: another company's object looks like no object at all."""
    return get_object_or_404(queryset.filter(partner=partner), **lookup)


def capability_required(capability):
    """Let the view run only for a signed-in user whose roles grant the capability.

    Everyone else is told why, with the 403 status: a company not associated with MPN gets
    Partner Center's own message; a user without the role learns whom to ask.
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
            if not can(user, capability):
                context = {
                    "ask": people_who_can(user.partner, ASSIGN_ANY_ROLE) if user.partner else [],
                    "roles": sorted(str(role.label) for role in roles_of(user)),
                }
                return render(request, "entitlements/missing_role.html", context, status=403)
            return view(request, user.partner, *args, **kwargs)

        return wrapper

    return decorator
