import logging
from smtplib import SMTPException

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import ReadOnlyPasswordHashField, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin
from entitlements.models import Partner, Role
from entitlements.services import account_moved, set_roles
from entitlements.signals import account_left
from support.services import remove_links_of

from . import people
from .models import AccessRequest, Invitation, User, sync_email_address
from .services import change_sign_in_email, send_password_link

log = logging.getLogger(__name__)

# allauth's own pages for addresses and authenticators would change credentials unaudited and
# untold: here they are for reading; the changes go through the account's own pages.
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(EmailAddress)
class EmailAddressReadOnlyAdmin(ReadOnlyAdminMixin, EmailAddressAdmin):
    actions = None


@admin.register(Authenticator)
class AuthenticatorReadOnlyAdmin(ReadOnlyAdminMixin, AuthenticatorAdmin):
    actions = None


class RolesMixin(forms.Form):
    """The user's roles as checkboxes, so changing a role is a change of the user."""

    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("roles") and not cleaned.get("partner"):
            self.add_error("roles", _("Roles are held in a company: choose the company first."))
        return cleaned


class AddressBookMixin(forms.Form):
    """An address another account holds, as its sign-in email or as one it added and
    verified, can't be this account's too."""

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        others = EmailAddress.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(user=self.instance)
        if others.exists() or User.objects.filter(email=email).exclude(pk=self.instance.pk):
            raise forms.ValidationError(_("An account with this email address already exists."))
        return email


class UserCreationForm(AddressBookMixin, RolesMixin, forms.ModelForm):
    """A new account, without a password: it gets an email to choose its own."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "language", "partner"]


class UserEditForm(AddressBookMixin, RolesMixin, UserChangeForm):
    password = ReadOnlyPasswordHashField(
        label=_("Password"),
        help_text=_(
            "Nobody sets or sees a partner's password here. To help someone who can't sign "
            "in, select the account in the list and use the action “Send a password reset "
            "link”."
        ),
    )

    class Meta:
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["roles"] = list(
                self.instance.role_assignments.values_list("role", flat=True)
            )

    def clean(self):
        cleaned = super().clean()
        if "partner" in self.changed_data and self.instance.partner_id:
            old = Partner.objects.get(pk=self.instance.partner_id)
            # Checked again, under the company's lock, by the action; here to say it in the form.
            if people.is_last_global_admin(old, self.instance) and (
                people.lasting_global_admins(old).filter(pk=self.instance.pk).exists()
            ):
                self.add_error(
                    "partner",
                    people.LAST_GLOBAL_ADMIN % {"person": self.instance.display_name},
                )
        if "partner" in self.changed_data and cleaned.get("roles"):
            # Roles are held in a company: a move starts the account with none, and roles in
            # the new company are given afterwards, on purpose.
            cleaned["roles"] = []
        return cleaned


@admin.register(User)
class UserAdmin(TypedSearchMixin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "partner", "role_list", "is_active"]
    list_filter = ["role_assignments__role", "is_active", "is_staff", "groups"]
    list_select_related = ["partner"]
    search_fields = ["email", "first_name", "last_name", "partner__name", "partner__mpn_id"]
    autocomplete_fields = ["partner"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "language"]}),
        ("Company", {"fields": ["partner", "roles"]}),
        (
            "Access to this admin",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "first_name", "last_name", "language", "partner", "roles"],
                "description": _(
                    "The account gets an email with a link to choose its own password."
                ),
            },
        ),
    ]
    actions = ["send_password_reset_links"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments")

    def has_delete_permission(self, request, obj=None):
        # A partner's account leaves its company through the company's pages or a move here
        # (audited, its last Global admin kept), never by deletion.
        if obj is not None and obj.partner_id is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete partners' accounts unchecked
        return actions

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser decides who may use this admin and with which permissions.
        if request.user.is_superuser:
            return ()
        return ("is_staff", "is_superuser", "groups", "user_permissions", "last_login")

    def has_change_permission(self, request, obj=None):
        # Support staff look after partners' accounts, not each other's or a superuser's.
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="roles")
    def role_list(self, user):
        return ", ".join(a.get_role_display() for a in user.role_assignments.all())

    def user_change_password(self, request, id, form_url=""):
        # Staff never choose a partner's password; they send a link to set it.
        messages.error(
            request,
            _(
                "Passwords are never set in this admin. Use the action “Send a password "
                "reset link” in the list of accounts."
            ),
        )
        return redirect("admin:accounts_user_change", id)

    @admin.action(description=_("Send a password reset link"), permissions=["change"])
    def send_password_reset_links(self, request, queryset):
        sent = 0
        for user in queryset.filter(is_active=True).select_related("partner"):
            try:
                send_password_link(request, user, request.user)
            except (OSError, SMTPException):
                log.exception("Password reset link to %s not sent", user.email)
                self.message_user(
                    request,
                    _("The email to %(email)s could not be sent; try again later.")
                    % {"email": user.email},
                    messages.ERROR,
                )
            else:
                sent += 1
        self.message_user(
            request,
            ngettext(
                "Sent a password reset link to %(count)s account.",
                "Sent a password reset link to %(count)s accounts.",
                sent,
            )
            % {"count": sent},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.set_unusable_password()
        active_changed = change and "is_active" in form.changed_data
        if active_changed:
            # Deactivating and reactivating are the same actions as on the company's pages
            # (accounts.people): the account's other changes are saved first.
            obj.is_active = not obj.is_active
        super().save_model(request, obj, form, change)
        if not change:
            sync_email_address(obj)
            transaction.on_commit(lambda: self._invite(request, obj))
            return
        if "email" in form.changed_data:
            change_sign_in_email(request, obj, form.initial["email"], request.user)
        if "partner" in form.changed_data:
            old = Partner.objects.filter(pk=form.initial.get("partner")).first()
            account_moved(obj, old, actor=request.user)
            remove_links_of(obj, request.user, "moved")
            account_left.send(sender=type(obj), user=obj, actor=request.user, why="moved")
            self.message_user(
                request,
                _(
                    "%(email)s was moved: its roles and contracts were removed and it was "
                    "signed out. Give it roles in its new company now if it needs them."
                )
                % {"email": obj.email},
                messages.WARNING,
            )
        if active_changed:
            action = people.reactivate if form.cleaned_data["is_active"] else people.deactivate
            try:
                action(request.user, obj)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                obj.is_active = form.cleaned_data["is_active"]

    @staticmethod
    def _invite(request, user):
        # After the commit the request is over; allauth's mail still needs it.
        with allauth_context.request_context(request):
            try:
                send_password_link(request, user, request.user, invitation=True)
            except (OSError, SMTPException):
                log.exception("Invitation to %s not sent", user.email)
                messages.error(
                    request,
                    _(
                        "%(email)s was created, but the invitation email could not be sent. "
                        "Send it again with the action “Send a password reset link”."
                    )
                    % {"email": user.email},
                )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user, roles = form.instance, form.cleaned_data.get("roles", [])
        if not change or user.partner_id is None or "partner" in form.changed_data:
            set_roles(user, roles, actor=request.user)
            return
        # The same rules as on the company's pages: the last Global admin stays one.
        try:
            people.change_roles(request.user, user, roles)
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, TypedSearchMixin, admin.ModelAdmin):
    """Invitations, for reading: they are sent, resent and revoked by the company's admins in
    the portal (accounts.people), where each change is audited and told."""

    list_display = ["email", "partner", "invited_by", "sent_at", "expires_at", "accepted_at"]
    list_filter = [("accepted_at", admin.EmptyFieldListFilter), "revoked_at"]
    list_select_related = ["partner", "invited_by"]
    search_fields = ["email", "partner__name", "partner__mpn_id"]
    exclude = ["key_digest"]


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdminMixin, TypedSearchMixin, admin.ModelAdmin):
    """Requests for a role, for reading: the company's own admins decide them in the portal."""

    list_display = ["user", "partner", "role", "asked_at", "decision", "decided_by", "days"]
    list_filter = ["role", "decision"]
    list_select_related = ["user", "partner", "decided_by"]
    search_fields = ["user__email", "partner__name", "partner__mpn_id"]
