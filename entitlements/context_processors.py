from .permissions import VIEW_AUDIT_LOG, can


def capabilities(request):
    """What the navigation offers: only what the signed-in user may open."""
    user = getattr(request, "user", None)
    return {
        "can_view_audit_log": bool(user and user.is_authenticated and can(user, VIEW_AUDIT_LOG))
    }
