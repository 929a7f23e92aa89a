from django.contrib import admin

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from .models import Notice


@admin.register(Notice)
class NoticeAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, for support staff: who was told what, and whether the email went."""

    list_display = ["created_at", "recipient", "kind", "about", "sent_at", "gave_up_at", "attempts"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter), "gave_up_at"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "email_to", "about"]
    date_hierarchy = "created_at"
