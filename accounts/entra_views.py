"""Account settings → Sign-in: a company's Global admin connects its Microsoft Entra tenant and
maps its groups to roles (rules and actions in accounts.entra). Also the sign-in callback."""

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from benefits_portal.forms import DescribedForm
from entitlements.models import Role
from entitlements.permissions import MANAGE_SIGN_IN, capability_required

from . import entra
from .models import EntraGroupRole, EntraTenant

GUID_HELP = gettext_lazy("A GUID, such as 00000000-0000-0000-0000-000000000000.")


def _guid_field(label):
    return forms.UUIDField(
        label=label,
        help_text=GUID_HELP,
        error_messages={
            "required": gettext_lazy("Enter the ID."),
            "invalid": gettext_lazy(
                "Enter the ID as Microsoft Entra shows it: 32 hexadecimal digits, in groups "
                "separated by hyphens."
            ),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class TenantForm(DescribedForm):
    tenant_id = _guid_field(gettext_lazy("Tenant ID"))


class GroupRoleForm(DescribedForm):
    group_id = _guid_field(gettext_lazy("Group object ID"))
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=Role.choices,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the roles listed.")},
    )


def _page(request, partner, tenant_form=None, group_form=None, status=200):
    tenant = EntraTenant.objects.filter(partner=partner).first()
    mappings = list(tenant.group_roles.all()) if tenant else []
    if tenant_form is None:
        tenant_form = TenantForm(initial={"tenant_id": tenant.tenant_id} if tenant else None)
    context = {
        "partner": partner,
        "tenant": tenant,
        "mappings": mappings,
        "tenant_form": tenant_form,
        "group_form": group_form or GroupRoleForm(),
        "configured": entra.entra_configured(),
    }
    return render(request, "accounts/entra.html", context, status=status)


def _here():
    return reverse("accounts:entra")


@require_http_methods(["GET", "POST"])
@capability_required(MANAGE_SIGN_IN)
def sign_in_settings(request, partner):
    """The company's Entra tenant and group mappings; a POST connects or changes the tenant."""
    if request.method == "GET":
        return _page(request, partner)
    form = TenantForm(request.POST)
    if not form.is_valid():
        return _page(request, partner, tenant_form=form, status=400)
    had = EntraTenant.objects.filter(partner=partner).values_list("tenant_id", flat=True).first()
    try:
        entra.connect_tenant(partner, form.cleaned_data["tenant_id"], request.user)
    except ValidationError as error:
        form.add_error("tenant_id", error)
        return _page(request, partner, tenant_form=form, status=409)
    if had is None:
        messages.success(
            request,
            _("Connected. People of this tenant can now sign in with Microsoft Entra ID."),
        )
    elif had == form.cleaned_data["tenant_id"]:
        messages.info(request, _("No change: this tenant was already connected."))
    else:
        messages.success(
            request,
            _(
                "Tenant changed. Its group mappings were removed: they named the old tenant's "
                "groups."
            ),
        )
    return redirect(_here())


@require_POST
@capability_required(MANAGE_SIGN_IN)
def disconnect(request, partner):
    if entra.disconnect_tenant(partner, request.user):
        messages.success(
            request,
            _(
                "Disconnected. Its people can no longer sign in with Microsoft Entra ID; anyone "
                "without a password can set one with “Forgot your password?”."
            ),
        )
    else:
        messages.info(request, _("No change: no tenant was connected."))
    return redirect(_here())


@require_POST
@capability_required(MANAGE_SIGN_IN)
def add_group_role(request, partner):
    form = GroupRoleForm(request.POST)
    if not form.is_valid():
        return _page(request, partner, group_form=form, status=400)
    try:
        entra.map_group(
            partner, form.cleaned_data["group_id"], form.cleaned_data["role"], request.user
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _page(request, partner, group_form=form, status=409)
    messages.success(
        request,
        _("Saved. Members of the group get the role the next time they sign in."),
    )
    return redirect(_here())


@require_POST
@capability_required(MANAGE_SIGN_IN)
def remove_group_role(request, partner, mapping_id):
    mapping = _mapping_or_404(partner, mapping_id)
    if entra.unmap_group(partner, mapping, request.user):
        messages.success(
            request,
            _("Removed. Members of the group lose the role the next time they sign in."),
        )
    else:
        messages.info(request, _("No change: this mapping had already been removed."))
    return redirect(_here())


def _mapping_or_404(partner, mapping_id):
    """The company's mapping (reached through its tenant), or 404."""
    mapping = EntraGroupRole.objects.filter(tenant__partner=partner, pk=mapping_id).first()
    if mapping is None:
        raise Http404
    return mapping


@transaction.non_atomic_requests
def callback(request, provider_id):
    """allauth's OpenID Connect callback, with Entra's issuer (entra.EntraOAuth2Adapter) and
    without the request-wide transaction: a role the groups take away ends the person's other
    sessions when its own transaction commits, before the new session starts (accounts.entra
    .apply_groups); each write there is atomic on its own."""
    try:
        view = OAuth2CallbackView.adapter_view(entra.EntraOAuth2Adapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
