"""My access (every signed-in person: their roles, in plain words, and asking for more) and
Access requests (the people who may decide them)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from entitlements import permissions
from entitlements.models import Role, RoleAssignment
from entitlements.permissions import (
    ASSIGN_ROLES,
    CAPABILITIES,
    IN_PLAIN_WORDS,
    MPN_CAPABILITIES,
    capability_required,
    partner_object_or_404,
)

from . import access
from .access_forms import DecisionForm, RequestAccessForm
from .decorators import login_required
from .models import AccessRequest

REQUESTS_PER_PAGE = 20
# What a role asks of its holder rather than lets them do: never listed as "does not let you".
REQUIREMENTS = frozenset({permissions.TWO_FACTOR_REQUIRED})


def _in_plain_words(role, mpn_member):
    """(what `role` lets one do, what it doesn't), each a list of sentences from
    permissions.IN_PLAIN_WORDS: the same map the code decides with. A company outside MPN
    has no membership benefits, whatever the role."""
    held = CAPABILITIES[role]
    lets, does_not = [], []
    for capability, words in IN_PLAIN_WORDS.items():
        usable = capability in held and (mpn_member or capability not in MPN_CAPABILITIES)
        if usable:
            lets.append(words)
        elif capability not in REQUIREMENTS:
            does_not.append(words)
    return lets, does_not


def _my_access_page(request, form=None, status=200):
    user = request.user
    partner = user.partner
    if partner is None:
        return render(request, "accounts/my_access.html", {"partner": None}, status=status)
    mpn_member = permissions.is_mpn_member(user)
    now = timezone.now()
    held = list(
        RoleAssignment.objects.filter(user=user)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("role")
    )
    held_roles = {assignment.role for assignment in held}
    roles = []
    for assignment in sorted(held, key=lambda a: list(Role).index(Role(a.role))):
        role = Role(assignment.role)
        lets, does_not = _in_plain_words(role, mpn_member)
        roles.append({"role": role, "ends": assignment.expires_at, "lets": lets, "not": does_not})
    others = [role for role in Role if role not in held_roles]
    if form is None:
        form = RequestAccessForm(roles=others, initial={"role": request.GET.get("role", "")})
    requests = Paginator(
        AccessRequest.objects.filter(user=user, partner=partner).select_related("decided_by"),
        REQUESTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    context = {
        "partner": partner,
        "roles": roles,
        "others": [{"role": role, "lets": _in_plain_words(role, mpn_member)[0]} for role in others],
        "form": form,
        "page": requests,
        "global_admins": permissions.people_who_can(partner, permissions.ASSIGN_ANY_ROLE),
    }
    return render(request, "accounts/my_access.html", context, status=status)


@require_GET
@login_required
def my_access(request):
    """The signed-in person's roles, what each lets them do and not, their requests, and the
    form to ask for a role. Support staff, who belong to no company, are told where they
    work instead."""
    return _my_access_page(request)


@require_POST
@login_required
def request_access(request):
    user = request.user
    if user.partner is None:
        # Support staff belong to no company, so there is no role to ask for.
        return _my_access_page(request, status=403)
    held = permissions.roles_of(user)
    form = RequestAccessForm(request.POST, roles=[role for role in Role if role not in held])
    if not form.is_valid():
        return _my_access_page(request, form, status=400)
    try:
        access_request = access.request_access(
            user, form.cleaned_data["role"], form.cleaned_data["reason"]
        )
    except access.Refused as refused:
        form.add_error(None, refused.message)
        return _my_access_page(request, form, status=409)
    messages.success(
        request,
        _("Your request for the %(role)s role was sent. You'll get an email when it is decided.")
        % {"role": access_request.get_role_display()},
    )
    return redirect("accounts:my_access")


@require_POST
@login_required
def withdraw(request, request_id):
    user = request.user
    if user.partner is None:
        raise Http404("Support staff make no requests.")
    access_request = partner_object_or_404(
        AccessRequest.objects.filter(user=user), user.partner, pk=request_id
    )
    try:
        access.withdraw(user, access_request)
    except access.Refused as refused:
        messages.info(request, refused.message)
    else:
        messages.success(
            request,
            _("Your request for the %(role)s role was withdrawn.")
            % {"role": access_request.get_role_display()},
        )
    return redirect("accounts:my_access")


def _decidable(user, partner):
    """The company's open requests `user` may decide (permissions.may_decide), oldest first."""
    return (
        AccessRequest.objects.filter(
            partner=partner, decided_at__isnull=True, role__in=permissions.grantable_roles(user)
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("asked_at", "pk")
    )


def _requests_page(request, partner, bound=None, status=200):
    page = Paginator(_decidable(request.user, partner), REQUESTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "request": access_request,
            "form": bound
            if bound is not None and bound.access_request.pk == access_request.pk
            else DecisionForm(access_request=access_request),
        }
        for access_request in page.object_list
    ]
    if bound is not None and not any(row["request"].pk == bound.access_request.pk for row in rows):
        # The request answered is on another page of the list: shown first, with its errors.
        rows.insert(0, {"request": bound.access_request, "form": bound})
    context = {"partner": partner, "page": page, "rows": rows}
    return render(request, "accounts/access_requests.html", context, status=status)


@require_GET
@capability_required(ASSIGN_ROLES)
def access_requests(request, partner):
    """The open requests the signed-in admin may decide, each with its approve and decline
    forms."""
    return _requests_page(request, partner)


def _decide(request, partner, request_id, approving):
    access_request = partner_object_or_404(
        AccessRequest.objects.select_related("user"), partner, pk=request_id
    )
    if not permissions.may_decide(request.user, access_request):
        return render(
            request,
            "accounts/may_not_decide.html",
            {"access_request": access_request},
            status=403,
        )
    form = DecisionForm(request.POST, access_request=access_request)
    valid = form.is_valid()
    if not approving and not valid and set(form.errors) == {"days"}:
        valid = True  # declining: the number of days typed doesn't matter
    if not valid:
        return _requests_page(request, partner, form, status=400)
    note = form.cleaned_data["note"]
    try:
        if approving:
            access.approve(request.user, access_request, note, form.cleaned_data["days"])
        else:
            access.decline(request.user, access_request, note)
    except access.Refused as refused:
        messages.info(request, refused.message)
        return redirect("accounts:access_requests")
    words = {"role": access_request.get_role_display(), "person": access_request.user.email}
    if approving:
        message = _("Approved: %(person)s now has the %(role)s role.") % words
    else:
        message = _("Declined: %(person)s was told.") % words
    messages.success(request, message)
    return redirect("accounts:access_requests")


@require_POST
@capability_required(ASSIGN_ROLES)
def approve(request, partner, request_id):
    return _decide(request, partner, request_id, approving=True)


@require_POST
@capability_required(ASSIGN_ROLES)
def decline(request, partner, request_id):
    return _decide(request, partner, request_id, approving=False)
