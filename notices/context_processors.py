from django.utils.functional import SimpleLazyObject


def unread_notices(request):
    """The bell's count of the signed-in person's unread notices: one query, and only on a
    page that shows the bell."""
    user = getattr(request, "user", None)
    return {"unread_notices": SimpleLazyObject(lambda: _unread(user))}


def _unread(user):
    from .services import unread_count

    if not (user and user.is_authenticated):
        return 0
    return unread_count(user)
