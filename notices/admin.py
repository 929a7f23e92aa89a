from django.contrib import admin

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from .models import Notice, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(Notice)
class NoticeAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, for support staff: who was told what, and whether the email went."""

    list_display = ["created_at", "recipient", "kind", "about", "sent_at", "gave_up_at", "attempts"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter), "gave_up_at"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "email_to", "about"]
    date_hierarchy = "created_at"


class WebhookAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ["at", "status_code", "no_answer", "milliseconds", "excerpt"]
    readonly_fields = fields
    extra = 0


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A company's webhook endpoints, for support staff helping with one that fails; never
    their secrets."""

    list_display = ["url", "partner", "created_at", "failing_since", "disabled_at", "removed_at"]
    list_filter = [
        ("disabled_at", admin.EmptyFieldListFilter),
        ("removed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["partner"]
    search_fields = ["url", "partner__name"]
    exclude = ["secret", "submission_key"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each event for each endpoint, with every try."""

    list_display = ["created_at", "endpoint", "event", "subject", "attempts", "delivered_at"]
    list_filter = ["event", ("delivered_at", admin.EmptyFieldListFilter), "gave_up_at"]
    list_select_related = ["endpoint"]
    search_fields = ["endpoint__url", "subject", "message_id"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
