"""What support staff see of Visual Studio subscriptions: who holds each (and who held it).
Read-only: assignments go through the page's service, by the company's Global admin."""

from django.contrib import admin

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from .models import SubscriptionAssignment


@admin.register(SubscriptionAssignment)
class SubscriptionAssignmentAdmin(ReadOnlyAdminMixin, TypedSearchMixin, admin.ModelAdmin):
    list_display = [
        "product",
        "number",
        "offer",
        "assignee",
        "assigned_at",
        "assigned_by",
        "ended_at",
    ]
    list_filter = ["product", ("offer__partner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = [
        "product",
        "offer__partner",
        "offer__competency",
        "assignee",
        "assigned_by",
    ]
    search_fields = ["offer__partner__name", "offer__partner__mpn_id", "assignee__email"]
    fields = ["offer", "product", "number", "assignee", "assigned_by", "assigned_at", "ended_at"]
    readonly_fields = fields
