from .permissions import MANAGE_CONTRACTS, MANAGE_SIGN_IN, VIEW_AUDIT_LOG, can


def capabilities(request):
    """What the navigation offers: only what the signed-in user may open."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "can_view_audit_log": signed_in and can(user, VIEW_AUDIT_LOG),
        "can_manage_contracts": signed_in and can(user, MANAGE_CONTRACTS),
        "can_manage_sign_in": signed_in and can(user, MANAGE_SIGN_IN),
        # The account menu links to the account's Entra connection when the portal has Entra.
        "entra_sign_in": signed_in and _entra_configured(),
    }


def _entra_configured():
    from accounts.entra import entra_configured

    return entra_configured()
