from django.utils.functional import SimpleLazyObject

from .permissions import (
    ASSIGN_ROLES,
    MANAGE_API_TOKENS,
    MANAGE_CONTRACTS,
    MANAGE_SIGN_IN,
    MANAGE_WEBHOOKS,
    VIEW_AUDIT_LOG,
    VIEW_CUSTOMERS,
    VIEW_ROLES,
    can,
    grantable_roles,
)


def capabilities(request):
    """What the navigation offers: only what the signed-in user may open."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "can_view_audit_log": signed_in and can(user, VIEW_AUDIT_LOG),
        "can_view_customers": signed_in and can(user, VIEW_CUSTOMERS),
        "can_manage_contracts": signed_in and can(user, MANAGE_CONTRACTS),
        "can_view_users": signed_in and can(user, VIEW_ROLES),
        "can_decide_access": signed_in and can(user, ASSIGN_ROLES),
        # Counted only on a page that shows it, for someone who may decide.
        "open_access_requests": SimpleLazyObject(lambda: _open_access_requests(user)),
        "can_manage_sign_in": signed_in and can(user, MANAGE_SIGN_IN),
        "can_manage_api_tokens": signed_in and can(user, MANAGE_API_TOKENS),
        "can_manage_webhooks": signed_in and can(user, MANAGE_WEBHOOKS),
        # The account menu links to the account's Entra connection when the portal has Entra.
        "entra_sign_in": signed_in and _entra_configured(),
    }


def _entra_configured():
    from accounts.entra import entra_configured

    return entra_configured()


def _open_access_requests(user):
    """How many of the company's open access requests `user` may decide (may_decide)."""
    from accounts.models import AccessRequest

    if not (user and user.is_authenticated and can(user, ASSIGN_ROLES)):
        return 0
    return (
        AccessRequest.objects.filter(
            partner_id=user.partner_id,
            decided_at__isnull=True,
            role__in=grantable_roles(user),
        )
        .exclude(user=user)
        .count()
    )
