"""Account settings → Users: the company's people, inviting one, changing one; and the page
an invitation's link opens.

Who may see and do what is asked of entitlements.permissions; the writes are the action
functions of accounts.people, which check again with the rows locked.
"""

from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import perform_login
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entitlements import permissions
from entitlements.models import Role, RoleAssignment
from entitlements.permissions import (
    ASSIGN_ROLES,
    MANAGE_USERS,
    VIEW_ROLES,
    capability_required,
    partner_object_or_404,
)

from . import people
from .models import Invitation, User
from .people_forms import AcceptForm, InviteForm, RolesForm, UserFilter

PER_PAGE = 50


def _with_status(queryset):
    """People with what the list shows of each, read in the same few queries at any size:
    their roles, whether they have an authenticator app, their open invitation's end."""
    held = RoleAssignment.objects.filter(people._held_roles()).order_by("role")
    open_invitation = Invitation.objects.filter(
        user=OuterRef("pk"), accepted_at=None, revoked_at=None
    )
    return queryset.annotate(
        has_authenticator_app=Exists(
            Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
        ),
        invitation_expires_at=Subquery(open_invitation.values("expires_at")[:1]),
    ).prefetch_related(Prefetch("role_assignments", queryset=held, to_attr="held_roles"))


class Status:
    INVITED = "invited"
    EXPIRED = "expired"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


def status_of(person, now):
    """Invited (the link still open), invitation expired, active or deactivated."""
    if not person.is_active:
        return Status.DEACTIVATED
    if person.invitation_expires_at is not None:
        return Status.INVITED if now < person.invitation_expires_at else Status.EXPIRED
    if people.is_invited(person):
        return Status.EXPIRED  # withdrawn-or-lost link of someone never joined: send it again
    return Status.ACTIVE


@require_safe
@capability_required(VIEW_ROLES)
def users(request, partner):
    """The company's users, searched by name or email and filtered by role, 50 a page."""
    form = UserFilter(request.GET)
    form.is_valid()  # errors are shown; the valid filters still apply
    everyone = partner.users.order_by("first_name", "last_name", "email")
    page = Paginator(_with_status(form.apply(everyone)), PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for person in page.object_list:
        person.status = status_of(person, now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "partner": partner,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(form.is_bound and any(form.cleaned_data.values())),
        "one_global_admin": people.lasting_global_admins(partner).count() <= 1,
        "may_invite": permissions.can(request.user, MANAGE_USERS),
    }
    return render(request, "accounts/users.html", context)


@require_http_methods(["GET", "POST"])
@capability_required(MANAGE_USERS)
def invite(request, partner):
    """Add user: an account with the chosen roles, and an emailed link to join."""
    grantable = permissions.grantable_roles(request.user)
    form = InviteForm(request.POST or None, grantable=grantable)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = people.invite(
                partner,
                request.user,
                data["email"],
                data["first_name"],
                data["last_name"],
                data["roles"],
                data["language"],
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link in it works once, for 7 days.")
                % {"email": invitation.email},
            )
            return redirect("accounts:user", invitation.user_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/invite.html", {"form": form, "partner": partner}, status=status
    )


def _person_or_404(partner, user_id):
    return partner_object_or_404(_with_status(User.objects.all()), partner, pk=user_id)


def _user_page(request, partner, person, form=None, status=200):
    actor = request.user
    grantable = permissions.grantable_roles(actor)
    may_change = permissions.may_change_roles(actor, person)
    held = {Role(a.role) for a in person.held_roles}
    if form is None and may_change:
        form = RolesForm(
            grantable=grantable, initial={"roles": [r.value for r in held if r in grantable]}
        )
    person.status = status_of(person, timezone.now())
    may_manage = permissions.may_manage(actor, person)
    context = {
        "partner": partner,
        "person": person,
        "kept": sorted((r.label for r in held if r not in grantable), key=str),
        "form": form if may_change else None,
        "may_manage": may_manage,
        "invited": people.is_invited(person),
    }
    return render(request, "accounts/user.html", context, status=status)


@require_safe
@capability_required(VIEW_ROLES)
def user(request, partner, user_id):
    """One person of the company: their roles, and what the viewer may change of them."""
    return _user_page(request, partner, _person_or_404(partner, user_id))


@require_POST
@capability_required(ASSIGN_ROLES)
def change_roles(request, partner, user_id):
    person = _person_or_404(partner, user_id)
    if not permissions.may_change_roles(request.user, person):
        raise PermissionDenied
    grantable = permissions.grantable_roles(request.user)
    form = RolesForm(request.POST, grantable=grantable)
    if not form.is_valid():
        return _user_page(request, partner, person, form, status=400)
    # The roles the admin may not give are kept as they are.
    kept = {a.role for a in person.held_roles if a.role not in grantable}
    try:
        changed = people.change_roles(request.user, person, {*form.cleaned_data["roles"], *kept})
    except ValidationError as error:
        form.add_error(None, error)
        return _user_page(request, partner, person, form, status=409)
    if changed:
        messages.success(request, _("Roles saved for %(person)s.") % {"person": person.email})
    else:
        messages.info(
            request, _("No change: %(person)s already had these roles.") % {"person": person.email}
        )
    return redirect("accounts:user", person.pk)


# What each button does, and what the page says after.
ACTIONS = {
    "deactivate": (
        people.deactivate,
        _("%(person)s is deactivated and was signed out."),
        _("No change: %(person)s was already deactivated."),
    ),
    "reactivate": (
        people.reactivate,
        _("%(person)s can sign in again."),
        _("No change: %(person)s could already sign in."),
    ),
    "resend": (
        people.resend,
        _("A new invitation was sent to %(person)s. The earlier link no longer works."),
        None,
    ),
    "revoke": (
        people.revoke,
        _("The invitation of %(person)s was withdrawn."),
        _("The invitation of %(person)s was withdrawn."),
    ),
    "remove": (
        people.remove_from_company,
        _("%(person)s was removed from the company and signed out."),
        _("%(person)s was removed from the company and signed out."),
    ),
}


@require_POST
@capability_required(MANAGE_USERS)
def user_action(request, partner, user_id, action):
    """Deactivate, reactivate, resend or revoke the invitation of, or remove a person."""
    person = _person_or_404(partner, user_id)
    if not permissions.may_manage(request.user, person):
        raise PermissionDenied
    function, done, unchanged = ACTIONS[action]
    name = {"person": person.email}
    try:
        result = function(request.user, person)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("accounts:user", person.pk)
    if result is False and unchanged:
        messages.info(request, str(unchanged) % name)
    else:
        messages.success(request, str(done) % name)
    if action == "remove" or (action == "revoke" and result):
        return redirect("accounts:users")
    return redirect("accounts:user", person.pk)


@require_http_methods(["GET", "POST"])
def invitation(request, key):
    """The page an invitation's link opens, signed in or not: choose a password and join.

    A link that can't be used (unknown, expired, used, withdrawn) says so: 404 for an unknown
    one, 200 otherwise (a page in the frame, never an error). Joining signs the person in;
    a role that needs two-factor then sends them to set it up (RequireTwoFactorMiddleware).
    """
    found = people.find_invitation(key)
    why = people.check_link(found)
    if why:
        context = {"message": people.LINK_DEAD[why]}
        status = 404 if why == "unknown" else 200
        return render(request, "accounts/invitation_dead.html", context, status=status)
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = people.accept(key, form.cleaned_data["password1"])
        except people.InvitationDead as dead:
            context = {"message": people.LINK_DEAD[dead.why]}
            return render(request, "accounts/invitation_dead.html", context, status=409)
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            messages.success(
                request,
                _("Welcome to %(partner)s in Partner Center.") % {"partner": found.partner.name},
            )
            # Signed in as by the sign-in form: the password just chosen counts as entered, so
            # setting up two-factor next doesn't ask for it again.
            record_authentication(
                request, person, method="password", email=person.email, reauthenticated=True
            )
            return perform_login(request, person, redirect_url=reverse("home"))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "invitation": found, "person": found.user}
    return render(request, "accounts/invitation.html", context, status=status)
