from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from entitlements.models import Role
from entitlements.services import set_roles

from .models import User, end_sessions, sync_email_address


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


class UserCreationForm(RolesMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "partner"]


class UserEditForm(RolesMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["roles"] = list(
                self.instance.role_assignments.values_list("role", flat=True)
            )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
        ("Person", {"fields": ["first_name", "last_name"]}),
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
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "partner",
                    "roles",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments")

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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sync_email_address(obj)
        if change and ({"is_active", "partner"} & set(form.changed_data)):
            end_sessions(obj)  # deactivated, or moved to another company

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        set_roles(form.instance, form.cleaned_data.get("roles", []), actor=request.user)
