from django.contrib import admin

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "partner", "action", "subject", "actor_email"]
    list_filter = ["action"]
    list_select_related = ["partner"]
    search_fields = ["partner__name", "partner__mpn_id", "actor_email", "subject"]
    date_hierarchy = "at"
