from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from benefits_portal.admin import TypedSearchMixin
from notices.models import Notice

from . import services
from .models import ActivationEvent, ActivationRequest

State = ActivationRequest.State


def action_form(model_admin, request, *, title, intro, items, form, action, submit):
    """The second step of an action that needs more than the selection: a form to fill."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "title": title,
        "intro": intro,
        "items": items,
        "form": form,
        "action": action,
        "submit": submit,
    }
    return TemplateResponse(request, "admin/action_form.html", context)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ActivationEvent
    fields = ["at", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields
    extra = 0


class StageFilter(admin.SimpleListFilter):
    """The furthest stage a request reached, whatever its state now (a failed one too)."""

    title = "stage reached"
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [
            ("submitted", "Submitted"),
            ("in_review", "In review"),
            ("provisioning", "Provisioning"),
            ("active", "Active"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "submitted":
                return queryset.filter(in_review_at__isnull=True)
            case "in_review":
                return queryset.filter(in_review_at__isnull=False, provisioning_at__isnull=True)
            case "provisioning":
                return queryset.filter(provisioning_at__isnull=False, completed_at__isnull=True)
            case "active":
                return queryset.filter(completed_at__isnull=False)
        return queryset


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=ActivationRequest._meta.get_field("failure_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        label=_("Reason"),
        help_text=_("The partner reads this on the Technical benefits page."),
    )


@admin.register(ActivationRequest)
class ActivationRequestAdmin(TypedSearchMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "partner",
        "offer_title",
        "benefit",
        "product",
        "state",
        "requested_by",
        "requested_at",
        "expected_at",
        "access_id",
        "contract_id",
    ]
    list_filter = [
        "state",
        StageFilter,
        ("offer__partner", admin.RelatedOnlyFieldListFilter),
        "benefit",
        ("product", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = [
        "offer__partner",
        "offer__competency",
        "requested_by",
        "contract",
        "product",
    ]
    search_fields = [
        "offer__partner__name",
        "offer__partner__mpn_id",
        "contract__access_id",
        "contract__contract_id",
    ]
    date_hierarchy = "requested_at"
    inlines = [EventInline]
    actions = ["complete_now", "retry", "reject_with_reason"]
    fields = [
        "offer",
        "benefit",
        "product",
        "state",
        "requested_by",
        "requested_at",
        "in_review_at",
        "provisioning_at",
        "completed_at",
        "expected_at",
        "due_at",
        "attempts",
        "failure_reason",
        "told",
        "access_id",
        "contract_id",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(ordering="offer__partner__name")
    def partner(self, obj):
        return obj.offer.partner

    @admin.display(description=_("offer"))
    def offer_title(self, obj):
        return obj.offer.title

    @admin.display(description=_("Access ID"), ordering="contract__access_id")
    def access_id(self, obj):
        return getattr(getattr(obj, "contract", None), "access_id", "")

    @admin.display(description=_("Contract ID"), ordering="contract__contract_id")
    def contract_id(self, obj):
        return getattr(getattr(obj, "contract", None), "contract_id", "")

    @admin.display(description=_("Told that the IDs are ready"))
    def told(self, obj):
        """Who the outbox told of this request, and whether their email went."""
        notices = Notice.objects.filter(
            kind=Notice.Kind.IDS_READY, about=services.ids_ready_about(obj.pk)
        ).select_related("recipient")
        return format_html_join(
            ", ",
            "{} ({})",
            (
                (
                    notice.recipient.email,
                    _("emailed")
                    if notice.sent_at
                    else _("not emailed")
                    if notice.gave_up_at
                    else _("email waiting"),
                )
                for notice in notices.order_by("recipient__email")
            ),
        )

    def _report(self, request, done, skipped, verb, why):
        if done:
            self.message_user(request, verb % {"count": done}, messages.SUCCESS)
        if skipped:
            left = ngettext(
                "%(count)s request left as it was: %(why)s.",
                "%(count)s requests left as they were: %(why)s.",
                skipped,
            )
            self.message_user(request, left % {"count": skipped, "why": why}, messages.WARNING)

    @admin.action(
        description=_("Complete now (fast-forward the processing)"), permissions=["change"]
    )
    def complete_now(self, request, queryset):
        results = [
            services.complete_now(pk, request.user) for pk in queryset.values_list("pk", flat=True)
        ]
        done = sum(state == State.ACTIVE for state in results)
        self._report(
            request,
            done,
            len(results) - done,
            _("Completed %(count)s request(s)."),
            _("not pending, busy in a worker this moment, or failed (see its history)"),
        )

    @admin.action(description=_("Retry failed activations"), permissions=["change"])
    def retry(self, request, queryset):
        results = [services.retry(pk, request.user) for pk in queryset.values_list("pk", flat=True)]
        self._report(
            request,
            sum(results),
            len(results) - sum(results),
            _("Retried %(count)s request(s)."),
            _("only failed requests can be retried, and not while a worker is busy with one"),
        )

    @admin.action(description=_("Reject with reason…"), permissions=["change"])
    def reject_with_reason(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            results = [
                services.reject(pk, reason, request.user)
                for pk in queryset.values_list("pk", flat=True)
            ]
            self._report(
                request,
                sum(results),
                len(results) - sum(results),
                _("Rejected %(count)s request(s)."),
                _("only pending or failed requests can be rejected, not while a worker holds one"),
            )
            return None
        return action_form(
            self,
            request,
            title=_("Reject activation requests"),
            intro=_(
                "The partner sees this reason on the Technical benefits page and may request "
                "the activation again."
            ),
            items=queryset.select_related("offer__partner", "offer__competency"),
            form=form,
            action="reject_with_reason",
            submit=_("Reject"),
        )


@admin.register(ActivationEvent)
class ActivationEventAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail: who changed which request, when, from what to what."""

    list_display = ["at", "request", "from_state", "to_state", "actor", "note"]
    list_filter = ["to_state", "from_state"]
    list_select_related = ["request__offer__partner", "request__offer__competency", "actor"]
    search_fields = [
        "request__offer__partner__name",
        "request__offer__partner__mpn_id",
        "actor__email",
    ]
    date_hierarchy = "at"
