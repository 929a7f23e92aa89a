"""What support staff see of the Cloud page's benefits: who holds each Azure credit (and who
held it), and the subscriptions activations made. Read-only: changes go through the page's
services, or, for a subscription, through its activation request."""

from django.contrib import admin

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from .models import CloudSubscription, CreditAssignment


@admin.register(CreditAssignment)
class CreditAssignmentAdmin(ReadOnlyAdminMixin, TypedSearchMixin, admin.ModelAdmin):
    list_display = ["product", "offer", "assignee", "assigned_at", "assigned_by", "ended_at"]
    list_filter = ["product", ("offer__partner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = [
        "product",
        "offer__partner",
        "offer__competency",
        "assignee",
        "assigned_by",
    ]
    search_fields = ["offer__partner__name", "offer__partner__mpn_id", "assignee__email"]
    fields = [
        "offer",
        "product",
        "assignee",
        "assigned_by",
        "assigned_at",
        "monthly_credit",
        "ended_at",
    ]
    readonly_fields = fields


@admin.register(CloudSubscription)
class CloudSubscriptionAdmin(ReadOnlyAdminMixin, TypedSearchMixin, admin.ModelAdmin):
    list_display = ["subscription_id", "partner", "product", "licenses", "starts_on", "ends_on"]
    list_filter = ["product"]
    list_select_related = ["partner", "product"]
    search_fields = ["partner__name", "partner__mpn_id", "subscription_id"]
    fields = [
        "activation",
        "partner",
        "product",
        "subscription_id",
        "licenses",
        "starts_on",
        "ends_on",
    ]
    readonly_fields = fields
