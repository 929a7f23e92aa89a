import unicodedata
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import BooleanField, F, Q, Value, When
from django.db.models import Case as CaseWhen
from django.http import HttpResponseRedirect
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from activation import clock
from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from . import services
from .models import Case, CaseEntry, HoursRecord


class EntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseEntry
    fields = ["created_at", "author", "from_support", "text"]
    readonly_fields = fields
    extra = 0


class HoursInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The hours recorded on an advisory request, and any given back."""

    model = HoursRecord
    fields = ["recorded_at", "hours", "counted", "given_back", "recorded_by"]
    readonly_fields = fields
    extra = 0


FIELDS = frozenset(services.STATE_FIELDS)


class CaseAdminForm(forms.ModelForm):
    """State, resolution and severity as on the case, and a reply to add to its conversation."""

    reply = forms.CharField(
        label=_("Reply to the partner"),
        required=False,
        max_length=CaseEntry._meta.get_field("text").max_length,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )
    waiting_on_you = forms.BooleanField(
        label=_("Ask the partner for something (waiting on you)"), required=False
    )

    hours_spent = forms.DecimalField(
        label=_("Hours spent (advisory requests)"),
        required=False,
        min_value=Decimal("0.25"),
        max_value=Decimal("100"),
        decimal_places=2,
    )

    # State, resolution and severity as the page showed them: only what staff changed from
    # that is applied, so a page opened before the partner's note moves nothing back.
    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Case
        fields = ["state", "resolution", "severity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.instance
        self.fields["shown"].initial = "|".join([case.state, case.resolution, case.severity])

    def moved(self):
        """{field: value} of state, resolution and severity that staff changed on the page."""
        shown = (self.cleaned_data.get("shown") or "").split("|")
        if len(shown) != len(services.STATE_FIELDS):
            return {f: self.cleaned_data.get(f) or "" for f in self.changed_data if f in FIELDS}
        return {
            field: self.cleaned_data.get(field) or ""
            for field, was in zip(services.STATE_FIELDS, shown, strict=True)
            if (self.cleaned_data.get(field) or "") != was
        }

    def clean(self):
        cleaned = super().clean()
        finished = cleaned.get("state") in Case.FINISHED
        if finished and not cleaned.get("resolution"):
            self.add_error("resolution", _("Choose a resolution for a resolved or closed case."))
        if cleaned.get("waiting_on_you") and not cleaned.get("reply", "").strip():
            self.add_error("reply", _("Say what you are waiting for."))
        return cleaned

    def _post_clean(self):
        # The service decides state and resolution together, under a lock; the form's copy
        # of the case is not validated against the case's constraints on its own.
        pass


class BreachedFilter(admin.SimpleListFilter):
    title = _("first-response target")
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [("missed", _("Missed")), ("met", _("Met")), ("pending", _("Not answered yet"))]

    def queryset(self, request, queryset):
        if self.value() == "missed":
            return queryset.filter(missed(clock.now()))
        if self.value() == "met":
            return queryset.filter(first_responded_at__lte=F("first_response_due"))
        if self.value() == "pending":
            return queryset.filter(first_responded_at__isnull=True)
        return queryset


def missed(now):
    """An expression: the case's first answer came late, or is due and still not given."""
    return CaseWhen(
        When(
            Q(first_responded_at__gt=F("first_response_due"))
            | Q(
                ~Q(state__in=Case.FINISHED),
                first_responded_at__isnull=True,
                first_response_due__lt=now,
            ),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


@admin.register(Case)
class CaseAdmin(TypedSearchMixin, admin.ModelAdmin):
    form = CaseAdminForm
    list_display = [
        "number",
        "title",
        "kind",
        "severity",
        "support_type",
        "state",
        "target",
        "first_response_due",
        "about",
        "partner",
        "opened_by",
        "opened_at",
    ]
    # Advisory requests are routed by the country/region and language the partner chose.
    list_filter = [
        BreachedFilter,
        "kind",
        "state",
        "severity",
        "resolution",
        "route",
        "product",
        "country",
        "language",
    ]
    list_select_related = ["product", "service", "partner", "opened_by"]
    search_fields = [
        "title",
        "opened_by__email",
        "partner__name",
        "customer__name",
        "contract__contract_id",
    ]
    readonly_fields = [
        "number",
        "kind",
        "partner",
        "opened_by",
        "contract",
        "product",
        "product_version",
        "customer",
        "service",
        "category",
        "route",
        "title",
        "description",
        "support_type",
        "request_type",
        "country",
        "language",
        "contact_name",
        "contact_email",
        "contact_phone",
        "opened_at",
        "first_response_due",
        "first_responded_at",
        "uses_hours",
        "hours_left",
    ]
    fieldsets = [
        (None, {"fields": ["number", "kind", "partner", "opened_by", "title", "description"]}),
        (
            _("About"),
            {
                "fields": [
                    "contract",
                    "product",
                    "product_version",
                    "customer",
                    "service",
                    "category",
                    "route",
                    "support_type",
                    "request_type",
                    "country",
                    "language",
                    "contact_name",
                    "contact_email",
                    "contact_phone",
                ]
            },
        ),
        (
            _("Target"),
            {"fields": ["opened_at", "first_response_due", "first_responded_at"]},
        ),
        (
            _("Answer"),
            {
                "fields": [
                    "state",
                    "resolution",
                    "severity",
                    "reply",
                    "waiting_on_you",
                    "hours_spent",
                    "uses_hours",
                    "hours_left",
                ]
            },
        ),
    ]
    inlines = [EntryInline, HoursInline]
    date_hierarchy = "opened_at"

    def get_ordering(self, request):
        # Breaches first: what staff must answer now, then what comes due soonest.
        return [
            missed(clock.now()).desc(),
            F("first_responded_at").asc(nulls_first=True),
            "first_response_due",
        ]

    def get_search_results(self, request, queryset, search_term):
        # The number a partner quotes ("SR000000042") finds its case.
        results, duplicates = super().get_search_results(request, queryset, search_term)
        pk = Case.pk_of_number(unicodedata.normalize("NFKC", search_term))
        if pk is not None:
            results = queryset.filter(Q(pk__in=results.values("pk")) | Q(pk=pk))
        return results, duplicates

    def has_add_permission(self, request):
        return False  # cases are opened by partners

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("number"), ordering="pk")
    def number(self, case):
        return case.number

    @admin.display(description=_("product or service"))
    def about(self, case):
        return case.about

    @admin.display(description=_("company's hours left"))
    def hours_left(self, case):
        if case.allowance_id is None:
            return "–"
        hours = case.allowance
        return f"{floatformat(hours.hours_remaining, -2)} / {floatformat(hours.hours_total, -2)}"

    @admin.display(description=_("target met"), boolean=True)
    def target(self, case):
        return case.target_met(clock.now())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        text = data.get("reply", "").strip()
        moved = form.moved()
        try:
            # All or nothing: a refusal of one part leaves the hours and the reply unsaved.
            with transaction.atomic():
                if data.get("hours_spent"):
                    services.record_hours(obj.pk, request.user, data["hours_spent"])
                if text:
                    services.reply(obj.pk, request.user, text, data["waiting_on_you"])
                if moved:
                    services.change(
                        obj.pk,
                        request.user,
                        state=moved.get("state") or None,
                        resolution=moved.get("resolution"),
                        severity=moved.get("severity") or None,
                    )
        except services.CaseClosed:
            self._refused(request, gettext("The case is closed."))
        except ValueError as refusal:
            self._refused(request, str(refusal))

    def _refused(self, request, message):
        self.message_user(request, message, messages.ERROR)
        request.case_refused = True

    def response_change(self, request, obj):
        # A refusal is said once, on the case's page again, with no "changed successfully".
        if getattr(request, "case_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
