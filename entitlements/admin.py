from django.contrib import admin
from django.db.models import Count
from django.utils import timezone

from benefits_portal.admin import TypedSearchMixin
from benefits_portal.text import DigitsField

from . import services
from .models import TERMS, Competency, MembershipOffer, Partner, RoleAssignment


class OfferInline(admin.TabularInline):
    """The company's offers at a glance; each is added and changed on its own page."""

    model = MembershipOffer
    extra = 0
    fields = ["kind", "competency", "level", "starts_on", "ends_on"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(TypedSearchMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "mpn_id",
        "is_mpn_associated",
        "is_csp",
        "in_partner_membership_center",
        "user_count",
    ]
    list_filter = [
        "is_mpn_associated",
        "is_csp",
        "in_partner_membership_center",
        "buys_premier_support",
        "buys_advanced_support",
    ]
    search_fields = ["name", "mpn_id", "users__email"]
    inlines = [OfferInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "mpn_id":
            kwargs["form_class"] = DigitsField  # full-width digits from an IME are digits
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_count=Count("users"))

    def save_model(self, request, obj, form, change):
        services.save_company(obj, request.user)  # audited in the company's log

    @admin.display(description="users", ordering="user_count")
    def user_count(self, partner):
        return partner.user_count


class OfferStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("active", "Active"),
            ("expired", "Expired"),
            ("upcoming", "Not started"),
            ("cancelled", "Cancelled for a refund"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        match self.value():
            case "active":
                return queryset.active(today)
            case "expired":
                return queryset.filter(ends_on__lt=today)
            case "upcoming":
                return queryset.filter(starts_on__gt=today)
            case "cancelled":
                return queryset.filter(cancelled_on__isnull=False)
        return queryset


@admin.register(MembershipOffer)
class MembershipOfferAdmin(TypedSearchMixin, admin.ModelAdmin):
    list_display = ["__str__", "partner", "kind", "level", "starts_on", "ends_on", "active"]
    list_filter = [OfferStatusFilter, "kind", "level", "competency"]
    list_select_related = ["partner", "competency"]
    search_fields = ["partner__name", "partner__mpn_id", "competency__name"]
    autocomplete_fields = ["partner"]
    date_hierarchy = "ends_on"

    def get_readonly_fields(self, request, obj=None):
        # Once a benefit was activated, the offer's terms are what its contracts were made
        # from: changing them would move IDs to another company or break pending requests.
        # The terms are recorded from the catalogue when the offer is saved, never typed.
        # A cancelled offer was refunded as it is: kept as it was.
        if obj is not None and obj.cancelled_on:
            return [
                "partner",
                "kind",
                "competency",
                "level",
                "starts_on",
                "ends_on",
                *TERMS,
                "cancelled_on",
            ]
        if obj is not None and obj.activations.exists():
            return ["partner", "kind", "competency", "level", *TERMS, "cancelled_on"]
        return [*TERMS, "cancelled_on"]

    @admin.display(boolean=True)
    def active(self, offer):
        return offer.is_active()

    # Through the services, so each add, change and removal is in the company's log.
    def save_model(self, request, obj, form, change):
        services.save_offer(obj, request.user)

    def delete_model(self, request, obj):
        services.remove_offer(obj, request.user)

    def delete_queryset(self, request, queryset):
        for offer in queryset.select_related("partner", "competency"):
            services.remove_offer(offer, request.user)


@admin.register(Competency)
class CompetencyAdmin(TypedSearchMixin, admin.ModelAdmin):
    list_display = ["name", "is_cloud"]
    list_filter = ["is_cloud"]
    search_fields = ["name"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(TypedSearchMixin, admin.ModelAdmin):
    """Who holds which role, to search across companies; roles are changed on the user's page."""

    list_display = ["user", "role", "partner", "assigned_at"]
    list_filter = ["role"]
    list_select_related = ["user__partner"]
    search_fields = ["user__email", "user__partner__name", "user__partner__mpn_id"]

    @admin.display(ordering="user__partner__name")
    def partner(self, assignment):
        return assignment.user.partner

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
