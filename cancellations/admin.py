"""Support staff decide cancellation requests: the open ones first, each with what stands in
the way of a refund now; approve or decline (saying why) from the request's page."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from . import services
from .models import CancellationRequest


class DecisionForm(forms.ModelForm):
    """The request's page: a decision and a note. The decision is made by the services when
    the form is checked, so a refusal (decided meanwhile, a benefit used) shows on the page with
    the note as typed, and nothing is saved twice."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("", "—"), ("approve", _("Approve")), ("decline", _("Decline"))],
        required=False,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = CancellationRequest
        fields = ["note"]

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if not decision or self.errors:
            return cleaned
        decide = services.approve if decision == "approve" else services.decline
        try:
            decide(self.staff, self.instance, cleaned.get("note", ""))
        except services.Refused as refused:
            raise forms.ValidationError(refused.message) from None
        self.instance.refresh_from_db()
        return cleaned


@admin.register(CancellationRequest)
class CancellationRequestAdmin(admin.ModelAdmin):
    form = DecisionForm
    list_display = ["number", "partner", "offer", "state", "requested_at", "requested_by"]
    list_filter = ["state"]
    list_select_related = ["partner", "offer__competency", "requested_by"]
    search_fields = ["partner__name", "partner__mpn_id", "reason"]
    ordering = ["-state", "requested_at"]  # open ones first, the oldest first
    readonly_fields = [
        "number",
        "partner",
        "offer",
        "requested_by",
        "requested_at",
        "reason",
        "state",
        "decided_at",
        "decided_by",
        "refund_now",
    ]
    fields = readonly_fields + ["decision", "note"]

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-state", "requested_at")

    def has_add_permission(self, request):
        return False  # the partner asks, from the offer's page

    def has_delete_permission(self, request, obj=None):
        return False  # kept: it decided a refund

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.staff = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != CancellationRequest.State.OPEN:
            return [*self.readonly_fields, "note"]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is not None and obj.state != CancellationRequest.State.OPEN:
            return [*self.readonly_fields, "note"]
        return self.fields

    def save_model(self, request, obj, form, change):
        pass  # the decision was made, and saved, by the services (DecisionForm.clean)

    @admin.display(description=_("Can it be refunded now?"))
    def refund_now(self, obj):
        if obj.state != CancellationRequest.State.OPEN:
            return "—"
        found = services.obstacles(obj.offer, asked_on=timezone.localdate(obj.requested_at))
        if not found:
            return _("Yes: nothing stands in the way.")
        return format_html_join("", "<p>{}</p>", ((obstacle.text,) for obstacle in found))
