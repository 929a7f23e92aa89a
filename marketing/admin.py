"""What support staff see of marketing contacts. Read-only: the company's Global admin or MPN
partner admin sets its contact on the Go-To-Market page, audited."""

from django.contrib import admin

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from .models import MarketingContact


@admin.register(MarketingContact)
class MarketingContactAdmin(ReadOnlyAdminMixin, TypedSearchMixin, admin.ModelAdmin):
    list_display = ["partner", "user", "email", "phone", "language", "updated_at"]
    list_select_related = ["partner", "user"]
    search_fields = ["partner__name", "partner__mpn_id", "user__email", "email"]
    fields = ["partner", "user", "email", "phone", "language", "updated_at", "updated_by"]
    readonly_fields = fields
